"""The notepad: the exact read text, split into passages and indexed for retrieval."""
