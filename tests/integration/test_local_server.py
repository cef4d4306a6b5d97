"""The local API server (`make dev`) under 20 concurrent keep-alive clients: no connection is
refused and no response waits on Nagle's algorithm."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading

import pytest
from chalice.config import Config
from chalice.local import LocalDevServer

from app import app
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
    finally:
        child.terminate()
        assert child.wait(timeout=10) is not None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
