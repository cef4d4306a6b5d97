"""Audit: an append-only record of every staff mutation, written in the same transaction as it."""
