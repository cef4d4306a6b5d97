"""The embedded DynamoDB (moto, with local_stack.moto_patches) as its own process, so the API and
the database do not share one interpreter lock: `make dev` starts it and stops it with itself.

    python -m local_stack.dynamodb --port 8001
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def serve(port: int) -> None:
    from moto.server import ThreadedMotoServer

    from local_stack import moto_patches

    moto_patches.install()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per DynamoDB call is noise
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C on `make dev` reaches the whole group
    stop.wait()


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
