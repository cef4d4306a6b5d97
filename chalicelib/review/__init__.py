"""Spaced review: FSRS cards of answered questions, the due queue and its forecast."""
