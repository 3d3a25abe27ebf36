"""Tokenize curated/<source> into tokens/<source>: Parquet shards (id, tokens as list<uint16>,
n_tokens) in hash(seed, id) order, written by the tasks with pyarrow, a validation split held out by
the same hash, manifest.json and _SUCCESS."""
import sys

from pipeline.tokens.tokenize_job import TokenizeJob

if __name__ == "__main__":
    sys.exit(TokenizeJob().main())
