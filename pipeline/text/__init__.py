"""Text: from a page to a judged document.

extract.py     the one HTML-to-text extractor (resiliparse, with byte/depth/time caps)
langid.py      fastText lid.176 language ID, once per worker, on lists of texts
heuristics.py  C4 line rules and Gopher quality / repetition rules, each with its drop reason
documents.py   WARC records -> staged document rows, per batch in the Spark Python worker
"""
