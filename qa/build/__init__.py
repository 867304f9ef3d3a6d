"""Building an index: the manifest and freshness checks (`manifest`), the corpus in memory (`corpus`,
with `vectors` for embedding that reuses and checkpoints), and the locked build for any backend (`build`)."""
