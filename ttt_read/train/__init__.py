"""Training pipeline: corpus, pretraining, meta-training."""
