"""The table the tests use is the one infra/ deploys, and the platform guards hold."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from chalicelib.core.config import get_settings
from chalicelib.core.db import TableItem
from chalicelib.core.table_schema import TEMPLATE_PATH, table_properties

ROOT = Path(__file__).resolve().parents[2]


def test_moto_table_matches_the_cloudformation_template():
    described = boto3.client("dynamodb").describe_table(TableName=get_settings().table_name)["Table"]
    properties = table_properties()
    assert described["KeySchema"] == properties["KeySchema"]
    assert {i["IndexName"]: i["KeySchema"] for i in described["GlobalSecondaryIndexes"]} == {
        i["IndexName"]: i["KeySchema"] for i in properties["GlobalSecondaryIndexes"]
    }
    assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=get_settings().table_name)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == properties["TimeToLiveSpecification"]["AttributeName"]


def test_pynamodb_model_matches_the_template():
    properties = table_properties()
    hash_key, range_key = (k["AttributeName"] for k in properties["KeySchema"])
    assert TableItem._hash_keyname == hash_key and TableItem._range_keyname == range_key
    model_indexes = {name: index.Meta.index_name for name, index in TableItem._indexes.items()}
    assert set(model_indexes.values()) == {i["IndexName"] for i in properties["GlobalSecondaryIndexes"]}
    assert "expires_at" in TableItem.get_attributes()


def test_template_protects_production_data():
    table = json.loads(TEMPLATE_PATH.read_text())["Resources"]["Table"]
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert table["DeletionPolicy"] == "Retain"


def test_stream_event_source_settings_are_declared():
    settings = json.loads((ROOT / "infra" / "stream-event-source.json").read_text())
    assert settings["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert settings["BisectBatchOnFunctionError"] is True
    assert 0 < settings["MaximumRetryAttempts"] <= 10
    assert 0 < settings["MaximumRecordAgeInSeconds"] <= 86400


ALARMED = {
    ("AWS/Lambda", "IteratorAge", "openmrcs-${Stage}-table_stream"),
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", None),
    ("AWS/Lambda", "Errors", "openmrcs-${Stage}"),
    ("AWS/Lambda", "Errors", "openmrcs-${Stage}-table_stream"),
    ("AWS/Lambda", "Errors", "openmrcs-${Stage}-task_worker"),
    ("AWS/Lambda", "Throttles", "openmrcs-${Stage}"),
    ("AWS/Lambda", "Throttles", "openmrcs-${Stage}-table_stream"),
    ("AWS/Lambda", "Throttles", "openmrcs-${Stage}-task_worker"),
    ("AWS/Lambda", "Errors", "openmrcs-${Stage}-roll_up_question_statistics"),  # statistics going stale
    ("AWS/ApiGateway", "5XXError", None),
    ("AWS/DynamoDB", "ReadThrottleEvents", None),
    ("AWS/DynamoDB", "WriteThrottleEvents", None),
}


def test_operations_alarms_notify_the_stage_topic():
    resources = json.loads(TEMPLATE_PATH.read_text())["Resources"]
    assert resources["AlarmTopic"]["Properties"]["TopicName"] == {"Fn::Sub": "openmrcs-${Stage}-alarms"}
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    found = set()
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], alarm["AlarmName"]
        function = next((d["Value"]["Fn::Sub"] for d in alarm["Dimensions"] if d["Name"] == "FunctionName"), None)
        found.add((alarm["Namespace"], alarm["MetricName"], function))
    assert found >= ALARMED


def test_every_stage_is_configured():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in ("dev", "staging", "prod"):
        env = config["stages"][stage]["environment_variables"]
        assert env["TABLE_NAME"] == f"openmrcs-{stage}"
        assert env["JWT_SECRET_ID"] and "JWT_SECRET" not in env  # a reference, never the secret itself
        assert env["CORS_ALLOWED_ORIGINS"] and env["POWERTOOLS_LOG_LEVEL"]


@pytest.mark.allow_scan
def test_scan_guard_fails_a_test_that_scans(client):
    from local_stack.meter import metering
    from tests.support.guards import assert_no_scan

    with metering() as meter:
        client.get("/health")
        assert_no_scan(meter)  # a request that does not scan passes
        list(TableItem.scan(limit=1))
    with pytest.raises(AssertionError, match="Scan"):
        assert_no_scan(meter)


def test_every_lambda_function_has_its_memory_and_timeout_in_every_stage():
    from app import app

    functions = {"api_handler"} | {f.name for f in app.pure_lambda_functions} | {e.name for e in app.event_sources}
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in ("dev", "staging", "prod"):
        declared = config["stages"][stage]["lambda_functions"]
        for name in functions:
            assert declared[name]["lambda_memory_size"] >= 256, (stage, name)
            assert declared[name]["lambda_timeout"] > 0, (stage, name)


def test_the_meter_bills_missing_keys_and_deletes_as_dynamodb_does():
    """A BatchGetItem key that finds nothing costs the minimum read; a delete in a BatchWriteItem
    costs the size of the item it removes (a 5 KB item: 5 WCU), as DynamoDB bills them."""
    from pynamodb.attributes import UnicodeAttribute

    from local_stack.meter import metering

    class Blob(TableItem, discriminator="MeterTestBlob"):
        text = UnicodeAttribute()

    Blob("meter-test-1", "A", text="x" * 5_000).save()
    with metering() as meter:
        keys = [("meter-test-1", "A"), ("meter-test-1", "missing"), ("meter-test-2", "missing")]
        found = list(TableItem.batch_get(keys))
    assert len(found) == 1
    assert meter.rcu == 1 + 2 * 0.5  # the 5 KB item (two 4 KB units, halved: eventually consistent), two misses
    with metering() as meter, TableItem.batch_write() as batch:
        batch.delete(Blob("meter-test-1", "A"))
    assert meter.wcu == 5
