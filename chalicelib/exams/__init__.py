"""Exam Mode: timed mock exams from templates, with a server-kept clock and a single, locked submission."""
