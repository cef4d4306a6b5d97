"""Accounts: registration, login, tokens and sessions, email verification, password reset, profiles."""
