"""Bundled checkpoints. A package only so that `pip install .` ships the directories below."""
