"""After `chalice deploy`: apply what Chalice's decorators cannot declare.

1. The table stream's event-source mapping gets infra/stream-event-source.json (partial batch
   responses, bisect on error, bounded retries and record age, the event filter) and the stack's
   failure queue; every setting is then read back, and any difference fails the deploy. Until this
   runs AWS defaults apply (batchItemFailures ignored, retries until the records expire), so a
   deploy that skipped it must not look finished.
2. API Gateway answers unknown routes with the API's JSON 404 instead of 403 'Missing
   Authentication Token', and every other gateway-generated error in the JSON envelope.

    python -m infra.post_deploy --stage dev              # apply, then verify
    python -m infra.post_deploy --stage dev --verify     # verify only (make verify-deploy)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import boto3

INFRA = Path(__file__).resolve().parent
FUNCTION = "openmrcs-{stage}-table_stream"
SECURITY_HEADERS = {
    "gatewayresponse.header.Strict-Transport-Security": "'max-age=63072000; includeSubDomains; preload'",
    "gatewayresponse.header.X-Content-Type-Options": "'nosniff'",
    "gatewayresponse.header.X-Frame-Options": "'DENY'",
}


API_STAGE = "api"  # .chalice/config.json: api_gateway_stage


def error_template(code: str, message: str) -> str:
    body = {"error": {"code": code, "message": message, "details": []}, "request_id": "$context.requestId"}
    return json.dumps(body)


GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found", "No route matches this path."),
    "THROTTLED": ("429", "rate_limited", "Too many requests; slow down."),
    "REQUEST_TOO_LARGE": ("413", "payload_too_large", "The request body is too large."),
    "DEFAULT_4XX": (None, "bad_request", "$context.error.messageString"),
    "DEFAULT_5XX": (None, "internal_error", "An unexpected error occurred."),
}


def stack_outputs(stage: str) -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName=f"openmrcs-{stage}")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def declared_stream_settings() -> dict[str, Any]:
    return {k: v for k, v in json.loads((INFRA / "stream-event-source.json").read_text()).items() if k[0] != "_"}


def _stream_mapping(stage: str, outputs: dict[str, str]) -> dict[str, Any]:
    mappings = boto3.client("lambda").list_event_source_mappings(
        FunctionName=FUNCTION.format(stage=stage), EventSourceArn=outputs["TableStreamArn"]
    )["EventSourceMappings"]
    if len(mappings) != 1:
        raise SystemExit(f"expected one stream mapping for {FUNCTION.format(stage=stage)}, found {len(mappings)}")
    return dict(mappings[0])


def configure_stream_mapping(stage: str, outputs: dict[str, str]) -> dict[str, Any]:
    """Apply the declared settings, then read them back: a difference fails loudly (SystemExit)."""
    mapping = _stream_mapping(stage, outputs)
    boto3.client("lambda").update_event_source_mapping(
        UUID=mapping["UUID"],
        DestinationConfig={"OnFailure": {"Destination": outputs["StreamFailureQueueArn"]}},
        **declared_stream_settings(),
    )
    return verify_stream_mapping(stage, outputs)


def stream_mapping_differences(stored: dict[str, Any], outputs: dict[str, str]) -> list[str]:
    """Every declared setting the stored mapping does not have, as 'name: stored != declared'."""
    expected = {
        **declared_stream_settings(),
        "DestinationConfig": {"OnFailure": {"Destination": outputs["StreamFailureQueueArn"]}},
        "State": "Enabled",
    }
    differences = []
    for name, declared in expected.items():
        found = stored.get(name)
        if name == "FilterCriteria":  # compare patterns as JSON values, not as strings
            found = sorted(_canonical(f["Pattern"]) for f in (found or {}).get("Filters", []))
            declared = sorted(_canonical(f["Pattern"]) for f in declared["Filters"])
        if found != declared:
            differences.append(f"{name}: {found!r} != {declared!r}")
    return differences


def _canonical(pattern: str) -> str:
    return json.dumps(json.loads(pattern), sort_keys=True)


def verify_stream_mapping(stage: str, outputs: dict[str, str], *, timeout_sec: float = 120) -> dict[str, Any]:
    """Waits out an update in progress, then fails (SystemExit) on any difference from the declaration."""
    deadline = time.monotonic() + timeout_sec
    mapping = _stream_mapping(stage, outputs)
    while mapping.get("State") in ("Updating", "Creating", "Enabling") and time.monotonic() < deadline:
        time.sleep(2)
        mapping = _stream_mapping(stage, outputs)
    differences = stream_mapping_differences(mapping, outputs)
    if differences:
        raise SystemExit(
            f"stream mapping {mapping['UUID']} of {FUNCTION.format(stage=stage)} differs from "
            "infra/stream-event-source.json:\n  " + "\n  ".join(differences)
        )
    return mapping


def configure_gateway_responses(stage: str, *, deploy: bool = True) -> None:
    apigateway = boto3.client("apigateway")
    apis = [api for api in apigateway.get_rest_apis(limit=500)["items"] if api["name"] == "openmrcs"]
    for api in apis:
        for response_type, (status, code, message) in GATEWAY_RESPONSES.items():
            kwargs: dict[str, Any] = {
                "restApiId": api["id"],
                "responseType": response_type,
                "responseParameters": SECURITY_HEADERS,
                "responseTemplates": {"application/json": error_template(code, message)},
            }
            if status:
                kwargs["statusCode"] = status
            apigateway.put_gateway_response(**kwargs)
        if deploy:  # gateway responses take effect with the next deployment of the stage
            apigateway.create_deployment(
                restApiId=api["id"], stageName="api", description=f"gateway responses ({stage})"
            )


def configure_edge(stage: str, outputs: dict[str, str]) -> dict[str, Any]:
    """Throttle the API stage (rate and burst) and put the stack's WAF web ACL in front of it."""
    apigateway = boto3.client("apigateway")
    region = apigateway.meta.region_name
    configured: dict[str, Any] = {}
    for api in [a for a in apigateway.get_rest_apis(limit=500)["items"] if a["name"] == "openmrcs"]:
        apigateway.update_stage(
            restApiId=api["id"],
            stageName=API_STAGE,
            patchOperations=[
                {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(outputs["StageRateLimit"])},
                {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(outputs["StageBurstLimit"])},
            ],
        )
        stage_arn = f"arn:aws:apigateway:{region}::/restapis/{api['id']}/stages/{API_STAGE}"
        boto3.client("wafv2").associate_web_acl(WebACLArn=outputs["ApiWebAclArn"], ResourceArn=stage_arn)
        configured[api["id"]] = stage_arn
    return configured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=["dev", "staging", "prod"])
    parser.add_argument("--verify", action="store_true", help="only check the stream mapping; change nothing")
    args = parser.parse_args()
    outputs = stack_outputs(args.stage)
    if args.verify:
        mapping = verify_stream_mapping(args.stage, outputs)
        print(f"stream mapping {mapping['UUID']} matches infra/stream-event-source.json")
        return
    mapping = configure_stream_mapping(args.stage, outputs)
    print(f"stream mapping {mapping['UUID']} configured and verified")
    configure_gateway_responses(args.stage)
    print("gateway responses configured")
    for api_id, stage_arn in configure_edge(args.stage, outputs).items():
        print(f"stage throttling and WAF web ACL configured on {api_id} ({stage_arn})")


if __name__ == "__main__":
    main()
