"""Seed data for the local stack and its idempotent loader (`python -m seeds.loader`)."""
