"""One logger and metrics sink for the whole service (powertools).

Tracing: Chalice's per-stage `"xray": true` (.chalice/config.json) traces API Gateway and every
Lambda invocation; the X-Ray SDK itself is not imported, as it cost a quarter of a second of cold
start for segments nobody read."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "openmrcs")

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "OpenMRCS"))
