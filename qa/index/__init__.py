"""The searchable structures an index is made of: span tables (`spans`), vectors with exact or HNSW
search (`dense`), BM25 (`lexical`), every sentence with its vector and terms (`quote_index`), the
stored tokens (`tokens`), per-document row tables (`tables`) and vectors by text key (`known_vectors`)."""
