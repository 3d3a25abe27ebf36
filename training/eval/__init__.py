"""Zero-, one- and few-shot evaluation (GPT-2 / GPT-3) and held-out bits per byte: `train eval`.

Public functions other rooms reuse (ablation, fine-tuning, InstructGPT):
  score_requests(model, [Request(context_ids, continuation_ids)]) -> [Score]   training.eval.scoring
  document_nats(model, tokenizer, texts, eot_id, stride)                        training.eval.perplexity
  metrics.bits_per_byte(nats, bytes)                                            training.eval.metrics
  evaluate(checkpoint, tasks, shots, limit, out, ...) -> results document       training.eval.runner
  load_scoring_model(source) -> ScoringModel                                    training.eval.runner
"""
