"""infra/post_deploy.py applies what Chalice cannot declare, against moto's Lambda and API Gateway."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest

from chalicelib.core.config import get_settings
from infra import post_deploy


@pytest.fixture
def deployed(monkeypatch):
    """What `chalice deploy` leaves behind: the stream handler, its mapping, and the REST API."""
    iam = boto3.client("iam")
    role = iam.create_role(
        RoleName="openmrcs-dev", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("app.py", "def handler(event, context):\n    return {}\n")
    awslambda = boto3.client("lambda")
    awslambda.create_function(
        FunctionName="openmrcs-dev-table_stream",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    stream_arn = boto3.client("dynamodb").describe_table(TableName=get_settings().table_name)["Table"][
        "LatestStreamArn"
    ]
    awslambda.create_event_source_mapping(
        FunctionName="openmrcs-dev-table_stream", EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
    )
    queue = boto3.client("sqs").create_queue(QueueName="openmrcs-dev-stream-failures")["QueueUrl"]
    queue_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    outputs = {"TableStreamArn": stream_arn, "StreamFailureQueueArn": queue_arn}
    monkeypatch.setattr(post_deploy, "stack_outputs", lambda stage: outputs)
    return outputs


def test_stream_mapping_gets_the_declared_settings(deployed):
    before = boto3.client("lambda").list_event_source_mappings(FunctionName="openmrcs-dev-table_stream")
    assert post_deploy.stream_mapping_differences(dict(before["EventSourceMappings"][0]), deployed)  # AWS defaults
    mapping = post_deploy.configure_stream_mapping("dev", deployed)
    settings = json.loads((post_deploy.INFRA / "stream-event-source.json").read_text())
    stored = boto3.client("lambda").get_event_source_mapping(UUID=mapping["UUID"])
    for key in ("BisectBatchOnFunctionError", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BatchSize"):
        assert stored[key] == settings[key], key
    assert stored["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stored["DestinationConfig"]["OnFailure"]["Destination"] == deployed["StreamFailureQueueArn"]
    assert stored["FilterCriteria"] == settings["FilterCriteria"]
    assert post_deploy.stream_mapping_differences(dict(stored), deployed) == []


@pytest.mark.parametrize(
    ("setting", "value"),
    [("MaximumRetryAttempts", -1), ("BisectBatchOnFunctionError", False), ("FunctionResponseTypes", [])],
)
def test_verification_fails_loudly_on_any_difference(deployed, setting, value):
    mapping = post_deploy.configure_stream_mapping("dev", deployed)
    boto3.client("lambda").update_event_source_mapping(UUID=mapping["UUID"], **{setting: value})
    with pytest.raises(SystemExit, match=setting):
        post_deploy.verify_stream_mapping("dev", deployed)


def test_the_event_filter_is_the_one_the_consumers_need():
    """The declared FilterCriteria equals what the registered consumers read; the pipeline's own
    writes (aggregates, watermarks, snapshots) and raw answer items never invoke the handler."""
    from chalicelib.core.streams import filter_patterns, matches_filter

    declared = json.loads((post_deploy.INFRA / "stream-event-source.json").read_text())["FilterCriteria"]
    assert [json.loads(f["Pattern"]) for f in declared["Filters"]] == filter_patterns()

    def record(event: str, image: str, item_type: str) -> dict[str, Any]:
        return {"eventName": event, "dynamodb": {image: {"type": {"S": item_type}}}}

    for kind in ("CategoryAggregate", "DailyStat", "ReviewCard", "DueDay", "PracticeWatermark", "DashboardSnapshot"):
        assert not matches_filter(record("MODIFY", "NewImage", kind), filter_patterns()), kind
    assert not matches_filter(record("INSERT", "NewImage", "PracticeAnswer"), filter_patterns())
    assert matches_filter(record("MODIFY", "NewImage", "PracticeSession"), filter_patterns())
    assert matches_filter(record("REMOVE", "OldImage", "TopicDismissal"), filter_patterns())
    assert not matches_filter(record("REMOVE", "OldImage", "PracticeSession"), filter_patterns())


def test_unknown_routes_answer_with_the_json_error_envelope():
    apigateway = boto3.client("apigateway")
    api_id = apigateway.create_rest_api(name="openmrcs")["id"]
    post_deploy.configure_gateway_responses("dev", deploy=False)
    response = apigateway.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert response["statusCode"] == "404"
    body = json.loads(response["responseTemplates"]["application/json"])
    assert body["error"]["code"] == "not_found" and body["request_id"] == "$context.requestId"
    assert response["responseParameters"]["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'"


def test_the_edge_gets_stage_throttling_and_the_waf_web_acl():
    apigateway = boto3.client("apigateway")
    api_id = apigateway.create_rest_api(name="openmrcs")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName=post_deploy.API_STAGE)
    acl = boto3.client("wafv2").create_web_acl(
        Name="openmrcs-dev-api",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "api"},
    )["Summary"]["ARN"]
    outputs = {"ApiWebAclArn": acl, "StageRateLimit": "50", "StageBurstLimit": "100"}
    configured = post_deploy.configure_edge("dev", outputs)
    stage = apigateway.get_stage(restApiId=api_id, stageName=post_deploy.API_STAGE)
    throttling = stage["methodSettings"]["*/*"]
    assert (throttling["throttlingRateLimit"], throttling["throttlingBurstLimit"]) == (50.0, 100)
    associated = boto3.client("wafv2").get_web_acl_for_resource(ResourceArn=configured[api_id])
    assert associated["WebACL"]["ARN"] == acl


def test_the_template_passes_cfn_lint_and_declares_the_per_ip_rule():
    import subprocess
    import sys
    from pathlib import Path

    template = post_deploy.INFRA / "template.json"
    linter = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(linter), str(template)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    acl = json.loads(template.read_text())["Resources"]["ApiWebAcl"]["Properties"]
    rule = acl["Rules"][0]
    assert rule["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
