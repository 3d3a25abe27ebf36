"""Curated sources (Wikipedia dumps, books, WikiText, plain corpora) into the document schema."""
