"""Run a scheduled job by name against the local stack (or DYNAMODB_ENDPOINT_URL):
`python -m local_stack.jobs NAME` (`make job NAME=...`); `--list` shows the names."""

from __future__ import annotations

import argparse
import json

from local_stack import environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", nargs="?")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    environment.configure()

    import app

    app.load_jobs()  # registers the jobs app.py schedules
    from chalicelib.core.jobs import JOBS, run_job

    if args.list or not args.name:
        print("\n".join(sorted(JOBS)) or "(no jobs)")
        return
    print(json.dumps(run_job(args.name), indent=2, default=str))


if __name__ == "__main__":
    main()
