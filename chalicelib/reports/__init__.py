"""Learners report problems with questions; editors work through the reports."""
