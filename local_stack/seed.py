"""`make seed`: load the seed data into the running local stack (or DYNAMODB_ENDPOINT_URL).
The local environment is configured here, so the seed loader itself stays free of dev tooling."""

from __future__ import annotations

import json
import sys

from local_stack import environment


def main() -> None:
    environment.configure()
    import boto3

    from chalicelib.core.config import get_settings
    from chalicelib.core.table_schema import create_table
    from seeds.loader import load_all

    settings = get_settings()
    create_table(boto3.client("dynamodb", endpoint_url=settings.dynamodb_endpoint_url), settings.table_name)
    print(json.dumps(load_all(sys.argv[1:] or None), indent=2))


if __name__ == "__main__":
    main()
