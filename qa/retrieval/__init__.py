"""Ranked passages for a query: the modes (`search.MODES`) and their fusion (`fusion`).

The question arrives embedded and tokenised; the store is searched through its interface only.
"""

from .search import MODES, Hit, Retriever

__all__ = ["MODES", "Hit", "Retriever"]
