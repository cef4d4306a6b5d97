"""Notifications: the learner's inbox and staff announcements."""
