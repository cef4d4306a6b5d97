"""Maintenance jobs of accounts (run by name: `make job NAME=...`; not scheduled)."""

from __future__ import annotations

from typing import Any

from chalicelib.accounts import data
from chalicelib.core.jobs import job


@job("index_user_directory")
def index_user_directory() -> dict[str, Any]:
    """Once, after deploying the user directory: files the accounts made before it (a Scan: a
    maintenance run, never a request). Safe to run again: it finds nothing left to file."""
    missing = data.accounts_without_directory_entry()
    for user in missing:
        data.add_directory_entry(user)
    return {"filed": len(missing)}
