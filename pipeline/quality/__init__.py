"""The GPT-3 quality classifier (features, training, scoring) and the pareto keep rule.

features.py   Spark's tokenizer + HashingTF re-done in Python, bit for bit
sampling.py   the keep rule: keep iff a Lomax(alpha) draw from (seed, id) exceeds 1 - score
classifier.py scoring with the saved PipelineModel (Spark) or its exported weights (no Spark)
train_job.py  `spark-submit pipeline/train_classifier.py`
"""
