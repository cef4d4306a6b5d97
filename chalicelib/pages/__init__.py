"""Pages: static and legal content (privacy, terms) with a draft/published workflow."""
