"""The local stack's pieces: stream delivery to app.py's handler, seeds, the admin CLI, the jobs CLI."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from chalicelib.accounts import data
from chalicelib.core import streams
from chalicelib.core.streams import StreamChange
from tests.support.accounts import PASSWORD, register


@pytest.fixture
def seen_users() -> Iterator[list[StreamChange]]:
    """A temporary consumer of User items, to observe what the stream handler dispatches."""
    seen: list[StreamChange] = []

    def consumer(change: StreamChange) -> None:
        if change.new and change.new.get("display_name") == "Explode":
            raise ValueError("poisoned record")
        seen.append(change)

    streams._CONSUMERS.setdefault("User", []).append(consumer)
    yield seen
    streams._CONSUMERS["User"].remove(consumer)


def test_stream_records_reach_the_deployed_handler(client, stream, seen_users):
    user = register(client, name="Streamed")["user"]
    delivered = stream.poll_once()
    assert delivered >= 3  # email claim, user, session, verification token
    inserts = [c for c in seen_users if c.event_name == "INSERT"]
    assert [c.new["user_id"] for c in inserts] == [user["id"]]
    assert inserts[0].new["display_name"] == "Streamed"


def test_a_failing_record_does_not_block_the_rest(client, stream, seen_users):
    register(client, name="Explode")
    good = register(client, name="Fine")["user"]
    stream.poll_once()
    # Records after the poisoned one are redelivered (at-least-once) but all arrive.
    assert {c.new["user_id"] for c in seen_users if c.event_name == "INSERT"} == {good["id"]}
    # Lambda retries the failed record, then isolates it and sends it to the on-failure queue.
    assert len(stream.dropped) == 1
    assert stream.dropped[0]["dynamodb"]["NewImage"]["display_name"]["S"] == "Explode"


def test_partial_batch_response_names_the_failed_record(client, stream, seen_users):
    from app import app

    register(client, name="Explode")
    records = stream.read()
    response = app.handler_map["table_stream"]({"Records": records}, None)
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    poisoned = [r for r in records if r["dynamodb"].get("NewImage", {}).get("type", {}).get("S") == "User"]
    assert failed == {poisoned[0]["dynamodb"]["SequenceNumber"]}


def test_the_running_poller_reports_when_what_was_written_before_has_been_delivered(client, stream, seen_users):
    """`make dev` announces the API only once the seeds' records are delivered: waiting returns
    after every record written before the call reached the handler, not merely after a poll."""
    stop = threading.Event()
    runner = threading.Thread(target=stream.run, args=(stop, 0.01), daemon=True)
    runner.start()
    try:
        assert stream.wait_until_drained(timeout_sec=10)  # nothing written yet
        names = [f"Learner {n}" for n in range(3)]
        for name in names:
            register(client, name=name)
        assert stream.wait_until_drained(timeout_sec=10)
        assert sorted(c.new["display_name"] for c in seen_users if c.event_name == "INSERT") == names
    finally:
        stop.set()
        runner.join(timeout=10)
    assert not stream.wait_until_drained(timeout_sec=0.05)  # stopped: nothing polls any more


def test_seed_loading_is_idempotent():
    from chalicelib.core.security import verify_password
    from seeds.loader import DEFAULT_PASSWORD, load_all

    first = load_all(["accounts"])
    second = load_all(["accounts"])
    assert first["accounts"] == {"created": 4, "existing": 0}
    assert second["accounts"] == {"created": 0, "existing": 4}
    for role in ("learner", "editor", "examiner", "admin"):
        claim = data.get_email_claim(f"{role}@openmrcs.local")
        assert claim is not None
        user = data.get_user(claim.user_id)
        assert user is not None and user.is_email_verified
    claim = data.get_email_claim("admin@openmrcs.local")
    assert claim is not None
    admin = data.get_user(claim.user_id)
    assert admin is not None and admin.role == "admin"
    assert verify_password(admin.password_hash, DEFAULT_PASSWORD)


def test_seed_accounts_can_log_in(client):
    from seeds.loader import load_all

    load_all(["accounts"])
    response = client.post("/auth/login", {"email": "editor@openmrcs.local", "password": "ChangeMe-123!"})
    assert response.status == 200


def test_seeds_refuse_production(monkeypatch):
    from chalicelib.core import config
    from seeds.loader import load_all

    monkeypatch.setenv("STAGE", "prod")
    config.get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit, match="prod"):
            load_all()
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()


def test_create_admin_cli_creates_then_promotes(client, monkeypatch, capsys):
    from chalicelib.accounts.cli import main

    monkeypatch.setenv("OPENMRCS_ADMIN_PASSWORD", "Operator-Pass-2026")
    assert main(["create-admin", "--email", "ops@example.com"]) == 0
    login = client.post("/auth/login", {"email": "ops@example.com", "password": "Operator-Pass-2026"})
    assert client.get("/me", token=login.json["access"]).json["role"] == "admin"
    learner = register(client, "promote@example.com")
    assert main(["create-admin", "--email", "promote@example.com"]) == 0
    fresh = client.post("/auth/login", {"email": "promote@example.com", "password": PASSWORD}).json
    assert client.get("/me", token=fresh["access"]).json["role"] == "admin"
    assert learner["user"]["role"] == "user"
    assert "Operator-Pass-2026" not in capsys.readouterr().out


def test_create_admin_cli_enforces_the_password_policy(monkeypatch):
    from chalicelib.accounts.cli import main

    monkeypatch.setenv("OPENMRCS_ADMIN_PASSWORD", "password123")
    assert main(["create-admin", "--email", "weak@example.com"]) == 2
    assert data.get_email_claim("weak@example.com") is None


def test_an_index_query_sees_every_write_made_before_it():
    """The embedded DynamoDB keeps its index groupings between writes only (moto_patches 3.): each
    put, update, delete and cancelled transaction shows in the next Query, and reads in between
    reuse the grouping."""
    import boto3

    from chalicelib.core.config import get_settings

    client, table = boto3.client("dynamodb"), get_settings().table_name

    def on_index(value: str) -> list[str]:
        found = client.query(
            TableName=table,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :v",
            ExpressionAttributeValues={":v": {"S": value}},
        )["Items"]
        return sorted(item["PK"]["S"] for item in found)

    def put(pk: str, index_value: str) -> None:
        client.put_item(TableName=table, Item=_probe(pk, index_value))

    put("probe-1", "index-a")
    assert on_index("index-a") == ["probe-1"]
    put("probe-2", "index-a")
    assert on_index("index-a") == ["probe-1", "probe-2"] and on_index("index-a") == ["probe-1", "probe-2"]
    client.update_item(
        TableName=table,
        Key={"PK": {"S": "probe-1"}, "SK": {"S": "X"}},
        UpdateExpression="SET GSI1PK = :b",
        ExpressionAttributeValues={":b": {"S": "index-b"}},
    )
    assert (on_index("index-a"), on_index("index-b")) == (["probe-2"], ["probe-1"])
    client.delete_item(TableName=table, Key={"PK": {"S": "probe-2"}, "SK": {"S": "X"}})
    assert on_index("index-a") == []
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": _probe("probe-3", "index-a"),
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"PK": {"S": "probe-missing"}, "SK": {"S": "X"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    assert on_index("index-a") == []


def _probe(pk: str, index_value: str) -> dict[str, dict[str, str]]:
    """An item on GSI1 (both of its keys set: an item missing either is not on the index)."""
    return {"PK": {"S": pk}, "SK": {"S": "X"}, "GSI1PK": {"S": index_value}, "GSI1SK": {"S": pk}}
