"""Loads the seed data; running it again adds nothing twice. Refuses to touch staging or prod."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parent
DEFAULT_PASSWORD = "ChangeMe-123!"
Loader = Callable[[], dict[str, int]]


def _progress(kind: str, done: int, total: int) -> None:
    print(f"\rseeding {kind}: {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def load_accounts() -> dict[str, int]:
    from chalicelib.accounts.service import provision_user
    from chalicelib.core.security import Role

    password = os.environ.get("SEED_PASSWORD", DEFAULT_PASSWORD)
    accounts = json.loads((SEED_DIR / "accounts.json").read_text())
    created = 0
    for index, account in enumerate(accounts, start=1):
        _, was_created = provision_user(account["email"], password, account["display_name"], Role(account["role"]))
        created += was_created
        _progress("accounts", index, len(accounts))
    return {"created": created, "existing": len(accounts) - created}


LOADERS: dict[str, Loader] = {"accounts": load_accounts}


def load_all() -> dict[str, dict[str, int]]:
    from chalicelib.core.config import get_settings

    stage = get_settings().stage
    if stage in ("staging", "prod"):
        raise SystemExit(f"refusing to load seed data into the {stage} stage")
    return {kind: loader() for kind, loader in LOADERS.items()}


def main() -> None:
    from chalicelib.localstack import environment

    environment.configure()
    import boto3

    from chalicelib.core.config import get_settings
    from chalicelib.core.table_schema import create_table

    settings = get_settings()
    create_table(boto3.client("dynamodb", endpoint_url=settings.dynamodb_endpoint_url), settings.table_name)
    print(json.dumps(load_all(), indent=2))


if __name__ == "__main__":
    main()
