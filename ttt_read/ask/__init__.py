"""`ask`: answers quoted from the notepad's passages, chosen by the span head or the structured ranker."""
