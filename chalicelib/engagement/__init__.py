"""Engagement: study reminders, weekly summaries and announcement mail (jobs and queued tasks)."""
