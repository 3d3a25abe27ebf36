"""Train a GPT-2-style byte-level BPE (Hugging Face tokenizers) on a deterministic sample of the
curated sources, or take GPT-2's own vocab.json + merges.txt; writes tokenizer.json."""
import sys

from pipeline.tokens.tokenizer_job import TrainTokenizerJob

if __name__ == "__main__":
    sys.exit(TrainTokenizerJob().main())
