"""Cited question answering over a folder of source documents.

The data flow is the layout: documents -> boilerplate -> sentences -> passages ->
embeddings / lexical -> index -> retrieval -> quotes -> answer -> surfaces
(cli, app, evaluation). Nothing heavy is imported here.
"""

__version__ = "0.1.0"
