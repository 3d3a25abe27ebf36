"""Materialise a mixture YAML as pre-shuffled rows (the ones the trainer's stream yields), as
Parquet, llm.c / nanoGPT .bin and Megatron .bin/.idx shards with a manifest."""
import sys

from pipeline.tokens.mixture_job import BuildMixtureJob

if __name__ == "__main__":
    sys.exit(BuildMixtureJob().main())
