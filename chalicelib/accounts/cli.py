"""Operator commands. Production gets its first admin here, never from seed data:

    python -m chalicelib.accounts.cli create-admin --email ops@example.com --name "Ops"

The password is read from OPENMRCS_ADMIN_PASSWORD or prompted for; it is never an argument."""

from __future__ import annotations

import argparse
import getpass
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an admin account, or promote an existing one")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="Administrator")
    args = parser.parse_args(argv)

    from chalicelib.accounts.service import promote_to_admin, provision_user
    from chalicelib.core.errors import ApiError
    from chalicelib.core.security import Role

    try:
        existing_user = promote_to_admin(args.email)
        print(f"promoted existing user {existing_user.id} to admin")
        return 0
    except ApiError:
        pass
    password = os.environ.get("OPENMRCS_ADMIN_PASSWORD") or getpass.getpass("New admin password: ")
    try:
        user, _ = provision_user(args.email, password, args.name, Role.ADMIN)
    except ApiError as exc:
        print(f"error: {exc.message} {exc.details}", file=sys.stderr)
        return 2
    print(f"created admin {user.id} <{user.email}>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
