"""The local API server (`make dev`) under 20 concurrent keep-alive clients: no connection is
refused and no response waits on Nagle's algorithm."""

from __future__ import annotations

import threading

import pytest
from chalice.config import Config
from chalice.local import LocalDevServer

from app import app
from local_stack.load import run
from local_stack.server import server_classes
from tests.support.accounts import register


@pytest.fixture
def local_server():
    handler_cls, server_cls = server_classes()
    config = Config.create(chalice_stage="local", app_name="openmrcs", project_dir=".")
    server = LocalDevServer(app, config, "127.0.0.1", 0, handler_cls=handler_cls, server_cls=server_cls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server.server_address[1]
    server.shutdown()


def test_twenty_keep_alive_clients_are_all_served(client, local_server):
    token = register(client)["access"]
    outcome = run("127.0.0.1", local_server, "/api/v1/dashboard", token, clients=20, requests=10)
    assert outcome.errors == 0
    assert len(outcome.latencies_ms) == 200


def test_keep_alive_responses_do_not_wait_for_a_delayed_ack(client, local_server):
    """Headers and body are two writes; with Nagle's algorithm on, every response on a kept-alive
    connection waited ~40 ms for the client's delayed ACK. A dashboard read takes a few ms."""
    token = register(client)["access"]
    outcome = run("127.0.0.1", local_server, "/api/v1/dashboard", token, clients=1, requests=20)
    assert outcome.errors == 0
    assert outcome.percentile(0.5) < 30, outcome.summary()
