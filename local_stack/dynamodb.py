"""The embedded DynamoDB (moto, with local_stack.moto_patches) as its own process, so the API and
the database do not share one interpreter lock: `make dev` starts it and stops it with itself.

    python -m local_stack.dynamodb --port 8001
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import unquote

from local_stack import heap

SETTLE_SIGNAL = getattr(signal, "SIGUSR1", None)  # POSIX only; elsewhere the seeds stay unfrozen


class KeepAliveWSGIHandler(BaseHTTPRequestHandler):
    """Serves a WSGI app over HTTP/1.1 keep-alive connections. Werkzeug's development server (what
    moto's ThreadedMotoServer uses) closes every connection after one response, so each DynamoDB
    call of the API paid a TCP connect and a new server thread; botocore keeps its connections
    open, so with this handler one connection per API thread serves every call."""

    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # buffered: headers and body leave in one send (no Nagle / delayed-ACK stall)
    disable_nagle_algorithm = True
    app: Any = None
    # X-Amz-Target prefix -> moto's handler, called without the Flask app in front of it
    direct: ClassVar[dict[str, Any]] = {}

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, data = self._call(body)
        code, _, reason = status.partition(" ")
        self.send_response_only(int(code), reason)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _call(self, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        path, _, query = self.path.partition("?")
        host, _, port = (self.headers.get("Host") or "127.0.0.1").partition(":")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path),
            "QUERY_STRING": query,
            "SERVER_NAME": host,
            "SERVER_PORT": port or "80",
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[f"HTTP_{key}"] = value
        handler = self.direct.get(str(environ.get("HTTP_X_AMZ_TARGET", "")).partition(".")[0])
        if handler is not None:
            return self._call_directly(handler, environ)
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return lambda chunk: None  # moto never uses the legacy write callable

        result = self.app(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return started[0], started[1], data

    @staticmethod
    def _call_directly(handler: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        """A DynamoDB (or Streams) call straight to moto's handler, as moto's Flask route would
        make it: measured 0.20 instead of 0.35-0.41 ms of CPU per GetItem, in a process that
        serves every API process's calls. moto answers service errors itself (400 + __type)."""
        from moto.core.request import Request

        from local_stack import moto_patches

        request = Request(environ)
        request.from_wsgi_server = True
        try:
            with moto_patches.one_request(str(environ.get("HTTP_X_AMZ_TARGET", ""))):  # as the Flask path
                code, headers, body = handler.dispatch(request, request.raw_url, dict(request.headers))
        except Exception:  # what Flask would answer for a bug in moto: the SDK retries a 500
            logging.getLogger(__name__).exception("moto failed on %s", environ.get("HTTP_X_AMZ_TARGET"))
            return "500 Internal Server Error", [("Content-Type", "application/json")], b'{"__type": "InternalFailure"}'
        data = body.encode() if isinstance(body, str) else bytes(body)
        # moto echoes the status among its headers; it is the status line's job
        listed = [(str(name), str(value)) for name, value in headers.items() if name.lower() != "status"]
        return f"{code} {HTTPStatus(int(code)).phrase}", listed, data

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per DynamoDB call is noise


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the API's threads connect at once when `make dev` starts


def serve(port: int) -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from local_stack import moto_patches

    moto_patches.install()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    KeepAliveWSGIHandler.app = DomainDispatcherApplication(create_backend_app)
    KeepAliveWSGIHandler.direct = {
        "DynamoDB_20120810": DynamoHandler,
        "DynamoDBStreams_20120810": DynamoDBStreamsHandler,
    }
    heap.settle()  # moto's imports
    if SETTLE_SIGNAL is not None:  # sent by `settle` once the table is seeded
        signal.signal(SETTLE_SIGNAL, lambda *_: heap.settle())
    server = _Server(("127.0.0.1", port), KeepAliveWSGIHandler)
    threading.Thread(target=server.serve_forever, name="dynamodb", daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C on `make dev` reaches the whole group
    stop.wait()


def settle(child: subprocess.Popen[bytes]) -> None:
    """Ask the server process to freeze its heap (local_stack.heap), e.g. once the seeds are in."""
    if SETTLE_SIGNAL is not None:
        child.send_signal(SETTLE_SIGNAL)


def start(port: int, timeout_sec: float = 30.0) -> subprocess.Popen[bytes]:
    """Start the server in a child process and wait until it accepts connections."""
    command = [sys.executable, "-m", "local_stack.dynamodb", "--port", str(port)]
    child = subprocess.Popen(command, env=os.environ.copy())  # noqa: S603 (our own module)
    deadline = time.monotonic() + timeout_sec
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the embedded DynamoDB exited with {child.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return child
        except OSError:
            time.sleep(0.1)
    child.terminate()
    raise RuntimeError(f"the embedded DynamoDB did not listen on port {port} within {timeout_sec:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8001)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
