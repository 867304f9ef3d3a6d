"""Evaluation: retrieval metrics (trec_eval semantics), the seeds gold set, BEIR datasets."""
