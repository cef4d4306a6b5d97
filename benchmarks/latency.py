"""In-process latency of the API on the seeded local stack (moto, as `make dev` and the tests use it).

Not a production figure: it measures our code plus the embedded DynamoDB, which is what developers
and the test suite wait on. Each endpoint's median over several calls is reported."""

from __future__ import annotations

import statistics
import time
from typing import Any

from benchmarks.harness import Api

TARGET_MS = 50.0
SEED_PASSWORD = "ChangeMe-123!"


def _timed(api: Api, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[float, Any]:
    started = time.perf_counter()
    response = api.call(method, path, body, token, capacity=False)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status >= 400:
        raise RuntimeError(f"{method} {path} -> {response.status}: {response.body}")
    return elapsed, response.body


def endpoint_latencies(api: Api, runs: int = 5) -> list[str]:
    import os

    from seeds.loader import load_all

    os.environ.setdefault("SEED_PASSWORD", SEED_PASSWORD)
    load_all()
    _, login = _timed(api, "POST", "/auth/login", {"email": "learner@openmrcs.local", "password": SEED_PASSWORD})
    token = login["access"]
    _, categories = _timed(api, "GET", "/categories", token=token)
    slug = categories["results"][0]["slug"] if isinstance(categories, dict) else categories[0]["slug"]
    timings: dict[str, list[float]] = {}

    def measure(label: str, method: str, path: str, body: Any = None) -> Any:
        elapsed, result = _timed(api, method, path, body, token)
        timings.setdefault(label, []).append(elapsed)
        return result

    for _ in range(runs):
        measure("GET /categories", "GET", "/categories")
        measure("GET /me", "GET", "/me")
        session = measure(
            "POST /practice/sessions", "POST", "/practice/sessions", {"categories": [slug], "question_count": 10}
        )
        measure("GET /practice/sessions/{id}", "GET", f"/practice/sessions/{session['id']}")
        question = session["questions"][0]
        measure(
            "POST /practice/sessions/{id}/attempts",
            "POST",
            f"/practice/sessions/{session['id']}/attempts",
            {
                "question_id": question["id"],
                "selected_option_ids": [question["options"][0]["id"]],
                "time_spent_sec": 30,
            },
        )
        measure("GET /dashboard", "GET", "/dashboard")
        measure("GET /analytics/heatmap", "GET", "/analytics/heatmap")
        measure("GET /practice/sessions", "GET", "/practice/sessions")
    lines = [f"| endpoint (seeded local stack, median of {runs}) | ms | target |", "|---|---|---|"]
    for label, samples in timings.items():
        median = statistics.median(samples)
        verdict = "ok" if median <= TARGET_MS else "OVER"
        lines.append(f"| {label} | {median:.1f} | <= {TARGET_MS:g} ({verdict}) |")
    return lines
