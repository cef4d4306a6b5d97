"""`make dev`: the API on 127.0.0.1:$PORT over an embedded DynamoDB (moto), seeded, with the table
stream delivered to app.py's stream handler, as deployed. DYNAMODB_ENDPOINT_URL selects another
DynamoDB endpoint instead of starting the embedded one."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from local_stack import environment, heap
from local_stack.connections import ConnectionCounts, leave_to_a_less_busy_process


def _create_export_bucket(bucket: str, endpoint_url: str | None, region: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


STARTUP_TIMEOUT_SEC = 180.0
LISTEN_FD = "OPENMRCS_LISTEN_FD"  # set for the extra API processes: the listening socket they share


def server_classes(counts: ConnectionCounts | None = None) -> tuple[type, type]:
    """chalice's local server, tuned for many keep-alive clients: headers and body go out in two
    writes, and with Nagle's algorithm the body then waits for the client's delayed ACK (~40 ms per
    response); the default listen backlog of 5 drops connections under 20 clients; and with
    `counts` (several API processes) a new connection goes to the least busy process."""
    from chalice.local import ChaliceRequestHandler, ThreadedHTTPServer

    class DevRequestHandler(ChaliceRequestHandler):
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """No second access line: the API logs each request as JSON (method, route, status, ms)."""

    class DevHTTPServer(ThreadedHTTPServer):
        request_queue_size = 128

        def get_request(self) -> tuple[socket.socket, Any]:
            if counts is not None and leave_to_a_less_busy_process(self.socket, counts):
                raise BlockingIOError("a less busy API process accepted the connection")
            accepted: tuple[socket.socket, Any] = super().get_request()  # a lost race: OSError, ignored
            return accepted

        def process_request(self, request: Any, client_address: Any) -> None:
            if counts is not None:
                counts.add(1)
            super().process_request(request, client_address)

        def shutdown_request(self, request: Any) -> None:
            """Once per accepted connection, when its thread is done with it."""
            if counts is not None:
                counts.add(-1)
            super().shutdown_request(request)

        def server_bind(self) -> None:
            inherited = os.environ.get(LISTEN_FD)
            if inherited is None:
                super().server_bind()
                return
            # An extra API process accepts on the first process's listening socket: whichever
            # process is free accepts the next connection (a busy one does not get more).
            self.socket.close()
            self.socket: socket.socket = socket.socket(fileno=int(inherited))
            self.server_address = self.socket.getsockname()

        def server_activate(self) -> None:
            if os.environ.get(LISTEN_FD) is None:
                super().server_activate()  # an inherited socket already listens
            if counts is not None:  # several processes race to accept: the losers must not block
                self.socket.setblocking(False)  # (accepted sockets still block)

        def serve_forever(self, poll_interval: float = 0.5) -> None:
            if counts is not None:
                counts.serving()  # from now on it accepts: the others may leave connections to it
            super().serve_forever(poll_interval)

        def server_close(self) -> None:
            if counts is not None:
                counts.stopped()
            super().server_close()

    return DevRequestHandler, DevHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--no-seed", action="store_true", help="start with an empty table")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKERS", str(os.cpu_count() or 1))),
        help="API processes sharing the port (one interpreter lock each); default: one per CPU",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # an extra API process
    args = parser.parse_args()
    embedded = not os.environ.get("DYNAMODB_ENDPOINT_URL")
    environment.configure()
    signal.signal(signal.SIGTERM, _exit_on_signal)  # stop the child processes too, not only on Ctrl-C
    if args.worker:
        from chalicelib.core.db import warm_up

        warm_up()  # the DynamoDB client as Lambda's init builds it, not in a request
        worker = _server(args.host, args.port, ConnectionCounts.inherited())
        try:
            with contextlib.suppress(KeyboardInterrupt, SystemExit):
                worker.serve_forever()
        finally:
            worker.server.server_close()
        return
    database = None
    if embedded:  # its own process: the API and the database do not share one interpreter lock
        from local_stack import dynamodb

        database = dynamodb.start(int(os.environ["DYNAMODB_ENDPOINT_URL"].rsplit(":", 1)[1]))

    # Imported only now: settings and the pynamodb models read the environment at import.
    import boto3

    from app import app
    from chalicelib.core.config import get_settings
    from chalicelib.core.db import warm_up
    from chalicelib.core.table_schema import create_table
    from local_stack.streams import StreamPoller
    from seeds.loader import load_all

    warm_up()  # the DynamoDB client as Lambda's init builds it, before the seeds use it
    settings = get_settings()
    create_table(boto3.client("dynamodb", endpoint_url=settings.dynamodb_endpoint_url), settings.table_name)
    _create_export_bucket(settings.export_bucket, settings.s3_endpoint_url, settings.region)
    poller = StreamPoller(
        settings.table_name, app.handler_map["table_stream"], endpoint_url=settings.dynamodb_endpoint_url
    )
    stop = threading.Event()
    threading.Thread(target=poller.run, args=(stop,), name="stream-poller", daemon=True).start()
    threading.Thread(target=_minutely_jobs, args=(stop,), name="scheduled-jobs", daemon=True).start()
    if not args.no_seed:
        load_all()
    counts = ConnectionCounts.create(args.workers) if args.workers > 1 else None
    server = _server(args.host, args.port, counts)
    listening = server.server.socket.fileno()
    worker_command = [sys.executable, "-m", "local_stack.server", "--worker", "--host", args.host]
    workers = [
        subprocess.Popen(  # noqa: S603 (our own module)
            [*worker_command, "--port", str(args.port)],
            env={**os.environ, LISTEN_FD: str(listening), **counts.inheritable_env(index)},
            pass_fds=(listening, counts.fd),
        )
        for index in range(1, args.workers)
        if counts is not None
    ]
    _wait_until_ready(poller, counts)
    if database is not None:
        dynamodb.settle(database)  # the seeded table (and its stream) is long-lived too
    print(
        f"OpenMRCS API on http://{args.host}:{args.port}/api/v1 (docs: /api/v1/docs; {args.workers} processes); "
        f"DynamoDB at {settings.dynamodb_endpoint_url}; outbox in {settings.outbox_path}",
        flush=True,
    )
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop.set()
        for child in [*workers, *([database] if database is not None else [])]:
            child.terminate()
            child.wait(timeout=10)


# The jobs AWS runs every minute, run here every few seconds so that a developer sees their effect
# (the cohort's statistics) without waiting.
LOCAL_MINUTELY_JOBS = ("roll_up_question_statistics",)
LOCAL_JOB_INTERVAL_SEC = 3.0


def _minutely_jobs(stop: threading.Event) -> None:
    import app
    from chalicelib.core.jobs import run_job

    app.load_jobs()
    while not stop.wait(LOCAL_JOB_INTERVAL_SEC):
        for name in LOCAL_MINUTELY_JOBS:
            try:
                run_job(name)
            except Exception:  # keep the local stack alive; the error is in the log
                logging.getLogger(__name__).exception("scheduled job %s failed", name)


def _wait_until_ready(poller: Any, counts: ConnectionCounts | None) -> None:
    """Announce the API once what the developer will use is there: the seeds' stream records
    delivered (the search index, the statistics; measured, the first exam submitted within ~15 s
    of start-up took 14 s to reach the dashboard behind them) and every API process serving."""
    started = time.monotonic()
    if not poller.wait_until_drained(timeout_sec=STARTUP_TIMEOUT_SEC):
        print("the table's stream is still behind; dashboards may lag for a while", file=sys.stderr)
    while counts is not None and not counts.all_serving(but=0):
        if time.monotonic() - started > STARTUP_TIMEOUT_SEC:
            print("an API process is not serving yet; the others take its connections", file=sys.stderr)
            break
        time.sleep(0.1)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _server(host: str, port: int, counts: ConnectionCounts | None = None) -> Any:
    """One API process: the app behind chalice's local server (the stream and seeds are the first
    process's work; every process reads and writes the same embedded DynamoDB)."""
    from chalice.config import Config
    from chalice.local import LocalDevServer

    from app import app
    from chalicelib.core.routing import load_all
    from chalicelib.route_index import ROUTES
    from local_stack import gateway

    load_all(ROUTES)  # a developer's first request should not wait for imports (Lambda's does)
    gateway.install()
    heap.settle()
    config = Config.create(chalice_stage="local", app_name="openmrcs", project_dir=os.getcwd())
    handler_cls, server_cls = server_classes(counts)
    return LocalDevServer(app, config, host, port, handler_cls=handler_cls, server_cls=server_cls)


if __name__ == "__main__":
    main()
