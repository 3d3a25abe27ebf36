"""Tokens: bpe (the tokenizer), shards (token Parquet, commit, manifest), packing (rows, epochs,
blending), exports (llm.c / Megatron), and the jobs train_tokenizer, tokenize_corpus, build_mixture."""
