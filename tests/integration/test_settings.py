"""Settings: one validated model read from the environment, checked at start; the JWT signing
secret from Secrets Manager is re-read after its cache age, so a rotation is seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
import time_machine

from chalicelib.core import config
from chalicelib.core.errors import ConfigurationError


@pytest.fixture
def fresh_settings():
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_documented_thresholds_come_from_the_environment(monkeypatch, fresh_settings):
    monkeypatch.setenv("SUGGEST_MAX", "2")
    monkeypatch.setenv("HEARTBEAT_DAILY_CAP_SEC", "600")
    monkeypatch.setenv("PROGRESS_MIN_SCORE", "80.5")
    settings = config.get_settings()
    assert (settings.suggest_max, settings.heartbeat_daily_cap_sec, settings.progress_min_score) == (2, 600, 80.5)


@pytest.mark.parametrize(
    ("name", "value"),
    [("PROGRESS_MIN_SCORE", "150"), ("SUGGEST_MAX", "many"), ("STAGE", "production"), ("JWT_SECRET", "short")],
)
def test_a_bad_value_stops_the_process_at_start(monkeypatch, fresh_settings, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as refused:
        config.get_settings()
    assert "invalid settings" in str(refused.value)
    assert value not in str(refused.value) or name != "JWT_SECRET"  # never echo a secret


def test_a_rotated_jwt_secret_is_seen_after_the_cache_age(monkeypatch, fresh_settings):
    from aws_lambda_powertools.utilities import parameters

    client = boto3.client("secretsmanager")
    client.create_secret(Name="openmrcs/test/jwt", SecretString="a" * 40)
    monkeypatch.setenv("JWT_SECRET", "")
    monkeypatch.setenv("JWT_SECRET_ID", "openmrcs/test/jwt")
    parameters.clear_caches()
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        settings = config.get_settings()
        assert settings.jwt_secret == "a" * 40
        client.put_secret_value(SecretId="openmrcs/test/jwt", SecretString="b" * 40)
        assert settings.jwt_secret == "a" * 40  # within the cache age: no call to Secrets Manager
        traveller.shift(timedelta(seconds=settings.jwt_secret_max_age_sec + 1))
        assert settings.jwt_secret == "b" * 40
    parameters.clear_caches()


def test_warm_up_builds_the_client_and_reads_the_secret_before_the_first_request():
    from chalicelib.core.db import TableItem, warm_up

    connection = TableItem._get_connection().connection
    connection._client = None  # as in a fresh container
    warm_up()
    assert connection._client is not None


def test_the_warmed_up_client_sends_a_fixed_user_agent_naming_the_app():
    """botocore rebuilds its default User-Agent twice per call; the warmed-up client sends ours."""
    from chalicelib.core.db import TableItem, client_user_agent, user_pk, warm_up

    connection = TableItem._get_connection().connection
    connection._client = None  # as in a fresh container
    warm_up()
    sent: list[str] = []

    def capture(request, **_):
        sent.append(request.headers["User-Agent"].decode())

    events = connection.client.meta.events
    events.register_first("before-send.dynamodb.GetItem", capture)
    try:
        connection.get_item(TableItem.Meta.table_name, user_pk("nobody"), "PROFILE")
    finally:
        events.unregister("before-send.dynamodb.GetItem", capture)
    assert len(sent) == 1 and sent[0].startswith(client_user_agent())  # + the session's extras
    assert "ua/2.1" not in sent[0]  # botocore's own (rebuilt) header carries its format version
