"""Train GPT-3's quality classifier (Spark tokenizer + HashingTF + LogisticRegression): curated
documents as positives against raw CommonCrawl as negatives; writes the PipelineModel, exported
weights for Spark-free scoring, and a held-out report (ROC AUC with a bootstrap interval, precision,
recall, score histograms, pareto keep rates)."""
import sys

from pipeline.quality.train_job import TrainClassifierJob

if __name__ == "__main__":
    sys.exit(TrainClassifierJob().main())
