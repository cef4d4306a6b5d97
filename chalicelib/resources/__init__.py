"""Resources: videos, seminars and articles, with accessibility metadata; featured ones feed the dashboard."""
