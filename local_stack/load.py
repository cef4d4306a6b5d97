"""Concurrent keep-alive clients against a running local API (`make dev`), as a browser-heavy
session would: `python -m local_stack.load --clients 20 --requests 50`. Prints P50/P95 and errors."""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "requests": len(self.latencies_ms) + self.errors,
            "errors": self.errors,
            "p50_ms": round(statistics.median(self.latencies_ms), 1) if self.latencies_ms else 0.0,
            "p95_ms": round(self.percentile(0.95), 1),
        }


def run(host: str, port: int, path: str, token: str, *, clients: int, requests: int, warmup: int = 5) -> LoadResult:
    """Each client keeps one connection open and sends its requests one after another; the first
    `warmup` of each are not counted (connection pools and per-process caches fill, as in any
    steady state)."""
    result, lock = LoadResult(), threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        for _ in range(warmup):
            connection.request("GET", path, headers=headers)
            connection.getresponse().read()
        for _ in range(requests):
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                connection = http.client.HTTPConnection(host, port, timeout=10)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    result.latencies_ms.append(elapsed)
                else:
                    result.errors += 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def login(host: str, port: int, email: str, password: str) -> str:
    return str(_call(host, port, "POST", "/auth/login", None, {"email": email, "password": password})["access"])


def _call(host: str, port: int, method: str, path: str, token: str | None, body: object = None) -> dict:  # type: ignore[type-arg]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    connection.request(method, "/api/v1" + path, body=None if body is None else json.dumps(body), headers=headers)
    response = connection.getresponse()
    payload = json.loads(response.read() or b"null")
    if response.status >= 400:
        raise RuntimeError(f"{method} {path} -> {response.status}: {payload}")
    return payload  # type: ignore[no-any-return]


def _answered(dashboard: dict) -> int:  # type: ignore[type-arg]
    performance = dashboard["performance"]
    return int(performance["correct"]) + int(performance["incorrect"])


def exam_freshness(host: str, port: int, token: str, timeout_sec: float = 30.0) -> float:
    """Seconds from an exam's submit returning to the dashboard showing it as the last exam."""
    templates = _call(host, port, "GET", "/exams/templates", token)
    template = min(templates, key=lambda t: t["total_questions"])
    session = _call(host, port, "POST", "/exams/sessions", token, {"template_id": template["id"]})
    first = session["questions"][0]
    answer = {"question_id": first["id"], "selected_option_ids": [first["options"][0]["id"]]}
    _call(host, port, "PUT", f"/exams/sessions/{session['id']}/answers", token, {"answers": [answer]})
    before = _answered(_call(host, port, "GET", "/dashboard", token))
    _call(host, port, "POST", f"/exams/sessions/{session['id']}/submit", token)
    submitted = time.perf_counter()
    while time.perf_counter() - submitted < timeout_sec:
        if _answered(_call(host, port, "GET", "/dashboard", token)) > before:  # the exam's answer counted
            return time.perf_counter() - submitted
        time.sleep(0.05)
    return float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--email", default="learner@openmrcs.local")
    parser.add_argument("--password", default="ChangeMe-123!")
    args = parser.parse_args()
    token = login(args.host, args.port, args.email, args.password)
    steady = run(args.host, args.port, "/api/v1/dashboard", token, clients=args.clients, requests=args.requests)
    print(json.dumps({"clients": args.clients, **steady.summary()}))
    fresh: list[float] = []
    checker = threading.Thread(target=lambda: fresh.append(exam_freshness(args.host, args.port, token)))
    checker.start()  # an exam started, answered and submitted while the clients load the API
    loaded = run(args.host, args.port, "/api/v1/dashboard", token, clients=args.clients, requests=args.requests)
    checker.join()
    print(
        json.dumps({"with an exam submitted meanwhile": loaded.summary(), "dashboard_current_sec": round(fresh[0], 2)})
    )


if __name__ == "__main__":
    main()
