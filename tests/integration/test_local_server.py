"""The local API server (`make dev`) under 20 concurrent keep-alive clients: no connection is
refused and no response waits on Nagle's algorithm."""

from __future__ import annotations

import http.client
import json
import os
import socket
import socketserver
import threading
import time
from typing import Any

import pytest
from chalice.config import Config
from chalice.local import LocalDevServer

from app import app
from local_stack.connections import MAX_DEFERRAL_SEC, NOT_SERVING, ConnectionCounts
from local_stack.load import run
from local_stack.server import LISTEN_FD, server_classes
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


def test_an_extra_api_process_accepts_on_the_first_ones_socket(client, monkeypatch):
    """`make dev` runs one API process per CPU: the extra ones inherit the first one's listening
    socket (whichever is free accepts the next connection) instead of binding the port again."""
    handler_cls, server_cls = server_classes()
    config = Config.create(chalice_stage="local", app_name="openmrcs", project_dir=".")
    first = server_cls(("127.0.0.1", 0), handler_cls)
    monkeypatch.setenv(LISTEN_FD, str(os.dup(first.socket.fileno())))
    # the address is ignored: the socket is inherited
    extra = LocalDevServer(app, config, "127.0.0.1", 0, handler_cls=handler_cls, server_cls=server_cls).server
    monkeypatch.delenv(LISTEN_FD)
    try:
        assert extra.server_address == first.server_address
        thread = threading.Thread(target=extra.serve_forever, daemon=True)
        thread.start()
        token = register(client)["access"]
        outcome = run("127.0.0.1", first.server_address[1], "/api/v1/me", token, clients=1, requests=3, warmup=0)
        assert outcome.errors == 0 and len(outcome.latencies_ms) == 3  # only the extra server accepts
        extra.shutdown()
    finally:
        extra.server_close()
        first.server_close()


def test_the_embedded_dynamodb_runs_in_its_own_process_and_stops(tmp_path):
    import boto3

    from local_stack import dynamodb

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = dynamodb.start(port)
    try:
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="eu-west-2")
        client.create_table(
            TableName="probe",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert client.list_tables()["TableNames"] == ["probe"]
        # Keep-alive: botocore's calls share one connection (werkzeug's server closed each one).
        raw = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        headers = {
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=x/20260101/eu-west-2/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=x",
        }
        for _ in range(2):
            raw.request("POST", "/", body="{}", headers=headers)
            response = raw.getresponse()
            assert response.status == 200 and json.loads(response.read()) == {"TableNames": ["probe"]}
            assert response.getheader("Connection") != "close"
        raw.close()
        big = "x" * 300_000  # larger than the handler's write buffer
        client.put_item(TableName="probe", Item={"PK": {"S": "big"}, "text": {"S": big}})
        assert client.get_item(TableName="probe", Key={"PK": {"S": "big"}})["Item"]["text"]["S"] == big
        # DynamoDB calls skip moto's Flask app; its service errors still reach the SDK as AWS sends them
        with pytest.raises(client.exceptions.ConditionalCheckFailedException):
            client.put_item(
                TableName="probe", Item={"PK": {"S": "big"}}, ConditionExpression="attribute_not_exists(PK)"
            )
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_item(TableName="missing", Key={"PK": {"S": "x"}})
        streams = boto3.client("dynamodbstreams", endpoint_url=f"http://127.0.0.1:{port}", region_name="eu-west-2")
        assert streams.list_streams()["Streams"] == []  # the probe table has no stream
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="eu-west-2")
        s3.create_bucket(Bucket="probe", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["probe"]  # other services: moto's app
    finally:
        child.terminate()
        assert child.wait(timeout=10) is not None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


class _HoldConnection(socketserver.StreamRequestHandler):
    """A connection that stays open until its client closes it, as a kept-alive one does."""

    def handle(self) -> None:
        self.rfile.read()


def test_a_new_connection_goes_to_the_least_busy_api_process():
    """`make dev`'s API processes share one listening socket; keep-alive connections stay where
    they were accepted, so a process already holding more connections leaves the next one to a
    less busy one (14 of 20 clients had landed on one process)."""
    counts = [ConnectionCounts.create(2)]
    counts.append(ConnectionCounts(counts[0].fd, 2, 1))  # the second process's view of the same slots
    first = server_classes(counts[0])[1](("127.0.0.1", 0), _HoldConnection)
    threading.Thread(target=first.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    port = first.server_address[1]
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]  # the other is not up yet
    _wait_for(lambda: counts[0].count(0) == 2)

    os.environ[LISTEN_FD] = str(os.dup(first.socket.fileno()))
    try:
        second = server_classes(counts[1])[1](("127.0.0.1", 0), _HoldConnection)
    finally:
        del os.environ[LISTEN_FD]
    threading.Thread(target=second.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        for opened in (3, 4):
            connections.append(socket.create_connection(("127.0.0.1", port)))
            _wait_for(lambda opened=opened: counts[0].count(0) + counts[0].count(1) == opened)
        assert (counts[0].count(0), counts[0].count(1)) == (2, 2)
    finally:
        for connection in connections:
            connection.close()
        _wait_for(lambda: counts[0].count(0) + counts[0].count(1) == 0)
        for server in (first, second):
            server.shutdown()
            server.server_close()
    assert counts[0].count(1) == NOT_SERVING  # a stopped process is no longer waited for


def test_a_process_that_never_accepts_delays_a_connection_only_briefly():
    """A least busy process that is stuck (or killed) is waited for at most MAX_DEFERRAL_SEC."""
    counts = ConnectionCounts.create(2)
    stuck = ConnectionCounts(counts.fd, 2, 1)
    stuck.serving()  # serving, with no connection, but it never calls accept()
    server = server_classes(counts)[1](("127.0.0.1", 0), _HoldConnection)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        first = socket.create_connection(("127.0.0.1", server.server_address[1]))  # 0 <= 0: at once
        _wait_for(lambda: counts.count(0) == 1)
        started = time.monotonic()
        second = socket.create_connection(("127.0.0.1", server.server_address[1]))
        _wait_for(lambda: counts.count(0) == 2)
        assert MAX_DEFERRAL_SEC <= time.monotonic() - started < 1.0
        first.close()
        second.close()
    finally:
        server.shutdown()
        server.server_close()


def _wait_for(condition: Any, timeout_sec: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_sec
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_settling_a_process_takes_its_long_lived_heap_out_of_every_full_collection():
    """What a full collection walks (gc.get_objects) shrinks to what was made since."""
    import gc

    from local_stack import heap

    before = len(gc.get_objects())
    try:
        frozen = heap.settle()
        assert frozen >= before * 0.5
        assert len(gc.get_objects()) < before * 0.1
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual


def test_a_direct_dynamodb_call_runs_under_motos_request_lock():
    """The direct path skips moto's app, not the lock that keeps each request atomic."""
    import io

    from local_stack import moto_patches
    from local_stack.dynamodb import KeepAliveWSGIHandler

    held: list[bool] = []

    def another_request_would_wait() -> None:
        acquired = moto_patches._lock.acquire(blocking=False)
        if acquired:
            moto_patches._lock.release()
        held.append(not acquired)

    class Probe:
        @staticmethod
        def dispatch(request: Any, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
            other = threading.Thread(target=another_request_would_wait)
            other.start()
            other.join()
            return 200, {"status": "200", "Content-Type": "application/x-amz-json-1.0"}, "{}"

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8001",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b"{}"),
        "CONTENT_LENGTH": "2",
        "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem",
    }
    status, headers, body = KeepAliveWSGIHandler._call_directly(Probe, environ)
    assert held == [True]
    assert (status, body) == ("200 OK", b"{}")
    assert ("status", "200") not in headers  # moto's echo of the status is not sent as a header
