"""Cited question answering over a folder of source documents.

The data flow is the layout: ingest (documents, clutter, sentences, passages) -> index
structures -> embed and store -> build -> retrieval -> answer -> engine -> surfaces (cli,
app, evaluation). Each stage imports only those below it (pyproject.toml's import-linter
contract; docs/design.md). Nothing heavy is imported here.
"""

__version__ = "0.1.0"
