"""GDPR: a user's data in their hands (export) and erased on request (delete)."""
