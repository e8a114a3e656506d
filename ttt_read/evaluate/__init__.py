"""`eval`, `eval-qa` and `bench`: loss and bits per byte, answer quality, speed."""
