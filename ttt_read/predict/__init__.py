"""Prediction from a memory: sessions that learn as they write, mixed with exact notepad matches."""
