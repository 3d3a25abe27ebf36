"""Exact and fuzzy (MinHash LSH) deduplication, cross-source removal and 13-gram decontamination."""
