"""infra/post_deploy.py applies what Chalice cannot declare, against moto's Lambda and API Gateway."""

from __future__ import annotations

import io
import json
import zipfile

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
    mapping = post_deploy.configure_stream_mapping("dev", deployed)
    settings = json.loads((post_deploy.INFRA / "stream-event-source.json").read_text())
    stored = boto3.client("lambda").get_event_source_mapping(UUID=mapping["UUID"])
    for key in ("BisectBatchOnFunctionError", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BatchSize"):
        assert stored[key] == settings[key], key
    assert stored["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stored["DestinationConfig"]["OnFailure"]["Destination"] == deployed["StreamFailureQueueArn"]


def test_unknown_routes_answer_with_the_json_error_envelope():
    apigateway = boto3.client("apigateway")
    api_id = apigateway.create_rest_api(name="openmrcs")["id"]
    post_deploy.configure_gateway_responses("dev", deploy=False)
    response = apigateway.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert response["statusCode"] == "404"
    body = json.loads(response["responseTemplates"]["application/json"])
    assert body["error"]["code"] == "not_found" and body["request_id"] == "$context.requestId"
    assert response["responseParameters"]["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'"
