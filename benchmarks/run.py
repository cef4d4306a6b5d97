"""`make bench`: DynamoDB operations and capacity units per endpoint (deterministic), then timings.

Capacity units are computed from item sizes with DynamoDB's published rules (moto reports a
constant): reads in 4 KB units, half for eventually consistent; writes in 1 KB units; transactions x2."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.harness import Measured, api

PASSWORD = "Bench-Password-2026"


def row(name: str, measured: Measured) -> str:
    ops = ", ".join(f"{op} x{n}" for op, n in sorted(measured.operations.items())) or "none"
    return f"| {name} | {measured.status} | {ops} | {measured.rcu:g} | {measured.wcu:g} |"


def auth_costs() -> list[str]:
    lines = ["| endpoint | status | DynamoDB operations | RCU | WCU |", "|---|---|---|---|---|"]
    with api() as client:
        registered = client.call(
            "POST", "/auth/register", {"email": "bench@example.com", "password": PASSWORD, "display_name": "Bench"}
        )
        lines.append(row("POST /auth/register", registered))
        login = client.call("POST", "/auth/login", {"email": "bench@example.com", "password": PASSWORD})
        lines.append(row("POST /auth/login", login))
        failed = client.call("POST", "/auth/login", {"email": "bench@example.com", "password": "Wrong-Password-1"})
        lines.append(row("POST /auth/login (wrong password)", failed))
        refreshed = client.call("POST", "/auth/refresh", {"refresh": login.body["refresh"]})
        lines.append(row("POST /auth/refresh", refreshed))
        lines.append(row("GET /me", client.call("GET", "/me", token=refreshed.body["access"])))
    return lines


def import_times(runs: int = 7) -> list[str]:
    """Cold import of app.py beside a bare Chalice + boto3 app, in fresh interpreters, same run."""
    from benchmarks.coldstart import INITIALISED, cold_start_rows
    from benchmarks.harness import BENCH_ENV

    bare = "import boto3, chalice; chalice.Chalice(app_name='bare')"
    ours = "import app"
    results = {}
    for name, code in (("bare Chalice + boto3", bare), ("app.py", ours)):
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code + INITIALISED], check=True, env={**os.environ, **BENCH_ENV})
            samples.append((time.perf_counter() - started) * 1000)
        results[name] = statistics.median(samples)
    baseline = results["bare Chalice + boto3"]
    lines = [f"| import in the project's environment (median of {runs}) | ms | vs bare |", "|---|---|---|"]
    lines += [f"| {name} | {ms:.0f} | {ms / baseline:.2f}x |" for name, ms in results.items()]
    return [*lines, "", *cold_start_rows()]


def practice_costs() -> list[str]:
    from benchmarks.practice import endpoint_costs

    sizes = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "10,1000,10000").split(","))
    with api() as client:
        return endpoint_costs(client, sizes)


def draw_costs() -> list[str]:
    from benchmarks.draw import draw_costs as costs

    with api() as client:
        return costs(client)


def stream_costs() -> list[str]:
    from benchmarks.stream import batch_costs, popular_question_cost

    with api() as client:
        lines = batch_costs(client)
    with api() as client:
        popular = popular_question_cost(client)
    return [*lines, "", "### 100 answers to one popular question", "", *popular]


def exam_costs() -> list[str]:
    from benchmarks.practice import exam_costs as costs

    with api() as client:
        return costs(client)


def local_latency() -> list[str]:
    from benchmarks.latency import endpoint_latencies

    with api() as client:
        return endpoint_latencies(client)


def notification_costs() -> list[str]:
    from benchmarks.notifications import notification_costs as costs

    with api() as client:
        return costs(client)


def search_costs() -> list[str]:
    from benchmarks.search import search_costs as costs

    with api() as client:
        return costs(client)


def entitlement_costs() -> list[str]:
    from benchmarks.billing import entitlement_costs as costs

    with api() as client:
        return costs(client)


def review_costs() -> list[str]:
    from benchmarks.review import review_costs as costs

    with api() as client:
        return costs(client)


SECTIONS: dict[str, Any] = {
    "auth": auth_costs,
    "practice": practice_costs,
    "draw": draw_costs,
    "stream": stream_costs,
    "exam": exam_costs,
    "notifications": notification_costs,
    "search": search_costs,
    "review": review_costs,
    "entitlements": entitlement_costs,
    "import": import_times,
    "latency": local_latency,
}


def main() -> None:
    chosen = sys.argv[1:] or list(SECTIONS)
    for name in chosen:
        print(f"\n## {name}\n")
        print("\n".join(SECTIONS[name]()))


if __name__ == "__main__":
    main()
