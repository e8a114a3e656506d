"""`ask`: answers quoted from the read sources: the unit asked for, a manual's sentence, or a span."""
