"""Text: from a page to a judged document.

extract.py     the one HTML-to-text extractor (resiliparse, with byte/depth/time caps)
langid.py      fastText lid.176 language ID, once per worker, on lists of texts
heuristics.py  what the C4 / Gopher heuristics count (the rules are steps: pipeline/steps)
"""
