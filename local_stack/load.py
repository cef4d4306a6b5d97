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


def run(host: str, port: int, path: str, token: str, *, clients: int, requests: int) -> LoadResult:
    """Each client keeps one connection open and sends its requests one after another."""
    result, lock = LoadResult(), threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=10)
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
    connection = http.client.HTTPConnection(host, port, timeout=10)
    body = json.dumps({"email": email, "password": password})
    connection.request("POST", "/api/v1/auth/login", body=body, headers={"Content-Type": "application/json"})
    return str(json.loads(connection.getresponse().read())["access"])


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
    outcome = run(args.host, args.port, "/api/v1/dashboard", token, clients=args.clients, requests=args.requests)
    print(json.dumps(outcome.summary()))


if __name__ == "__main__":
    main()
