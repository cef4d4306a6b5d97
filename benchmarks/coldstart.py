"""Cold-start import time laid out as Lambda runs the package, beside a bare Chalice app in the
same layout, in one run: the app code in /var/task, the requirements in the layer (both without
bytecode, as `chalice deploy` ships them), boto3 from the runtime (compiled). Then the same with
the bytecode `infra.bytecode` adds. Each figure is the median of fresh interpreters that may not
write bytecode (Lambda's file system is read-only), timed from start until the stage is done: the
interpreter then ends with `os._exit`, as a Lambda container is frozen and later killed, never
torn down (in one run teardown added 48 ms to the bare app and 89 ms to app.py: no request waits for it)."""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import BENCH_ENV
from infra.bytecode import compile_tree, copy_without_bytecode

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.3
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
BARE = """import os

import boto3
from chalice import Chalice

app = Chalice(app_name="bare")
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # what any DynamoDB-backed function does at init
    boto3.client("dynamodb")


@app.route("/api/v1/health")
def health():
    return {"status": "ok"}
"""
# A reference, not the baseline: the bare app with the same collector policy as app.py's init
# (chalicelib/core/lambda_init.py), over its whole import, so the table shows what that policy
# is worth on its own.
BARE_PAUSED = (
    """import gc

gc.disable()
"""
    + BARE
    + """
gc.freeze()
gc.enable()
"""
)
# The stage is done: end as Lambda ends a container (no teardown, which no request waits for).
INITIALISED = "\nimport os\nos._exit(0)\n"
# One API Gateway request, handled after the import (and init): GET /api/v1/health.
FIRST_REQUEST = """
import {module}
event = {{"resource": "/api/v1/health", "path": "/api/v1/health", "httpMethod": "GET", "headers": {{}},
    "multiValueHeaders": {{}}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {{"resourcePath": "/api/v1/health", "httpMethod": "GET", "requestId": "bench",
    "identity": {{"sourceIp": "127.0.0.1"}}, "stage": "api"}}}}
class Context:
    aws_request_id = "bench"
    function_name = "api"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-2:000000000000:function:api"
    def get_remaining_time_in_millis(self): return 30000
response = {module}.app(event, Context())
assert response["statusCode"] == 200, response
"""
# (label, code, extra environment): what each side does in one fresh interpreter.
STAGES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("import", "import {module}", {}),
    ("Lambda init (import + DynamoDB client)", "import {module}", {"AWS_LAMBDA_FUNCTION_NAME": "api"}),
    ("init + first request (GET /health)", FIRST_REQUEST, {"AWS_LAMBDA_FUNCTION_NAME": "api"}),
)


def _closure(names: list[str]) -> dict[str, metadata.Distribution]:
    found: dict[str, metadata.Distribution] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        distribution = metadata.distribution(name)
        found[key] = distribution
        for requirement in distribution.requires or []:
            if "extra ==" not in requirement:
                match = re.match(r"[A-Za-z0-9_.\-]+", requirement)
                assert match is not None
                pending.append(match.group(0))
    return found


def _copy_distribution(distribution: metadata.Distribution, target: Path) -> None:
    base = Path(str(distribution.locate_file("")))
    for file in distribution.files or []:
        source = base / file
        if source.suffix == ".pyc" or "__pycache__" in file.parts or not source.is_file():
            continue
        destination = target / file
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)


def build_layout(root: Path) -> dict[str, Path]:
    task, layer, runtime = root / "task", root / "layer", root / "runtime"
    for path in (task, layer, runtime):
        path.mkdir(parents=True)
    shutil.copy2(ROOT / "app.py", task / "app.py")
    copy_without_bytecode(ROOT / "chalicelib", task / "chalicelib")
    chalice_dir = Path(str(metadata.distribution("chalice").locate_file("chalice")))
    (task / "chalice").mkdir()
    for name in ("__init__.py", "app.py"):  # what chalice puts in the package
        shutil.copy2(chalice_dir / name, task / "chalice" / name)
    (task / "bare.py").write_text(BARE)
    (task / "bare_paused.py").write_text(BARE_PAUSED)
    requirements = [line.split("==")[0] for line in (ROOT / "requirements.txt").read_text().splitlines()]
    for distribution in _closure([r for r in requirements if r and not r.startswith("#")]).values():
        _copy_distribution(distribution, layer)
    site = Path(str(metadata.distribution("boto3").locate_file("")))
    for name in RUNTIME_PACKAGES:
        source = site / name
        if source.is_dir():
            copy_without_bytecode(source, runtime / name)
        elif source.exists():
            shutil.copy2(source, runtime / name)
    compile_tree(runtime)  # the runtime's own boto3 is compiled
    return {"task": task, "layer": layer, "runtime": runtime}


def paired_medians(paths: dict[str, Path], codes: tuple[str, ...], extra_env: dict[str, str], runs: int) -> list[float]:
    """The median wall time of each code in fresh interpreters, run in turn so that whatever else
    the machine is doing weighs on every side alike."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        **BENCH_ENV,
        **extra_env,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join(str(paths[k]) for k in ("task", "layer", "runtime")),
    }
    samples: list[list[float]] = [[] for _ in codes]
    for _ in range(runs):
        for side, code in enumerate(codes):
            started = time.perf_counter()
            command = [sys.executable, "-S", "-c", code + INITIALISED]
            subprocess.run(command, check=True, env=env, cwd=paths["task"], capture_output=True)
            samples[side].append((time.perf_counter() - started) * 1000)
    return [statistics.median(side) for side in samples]


def cold_start_rows(runs: int = 15) -> list[str]:
    lines = [
        f"| packaged layout (median of {runs} fresh interpreters) | stage | bare Chalice + boto3 ms | app.py ms "
        "| ratio | target |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="openmrcs-package-") as tmp:
        paths = build_layout(Path(tmp))
        for layout in ("as chalice ships it (no bytecode)", "with infra.bytecode (compiled)"):
            if layout.startswith("with"):
                compile_tree(paths["task"])
                compile_tree(paths["layer"])
            for stage, code, extra_env in STAGES:
                # The paused bare app as a reference where app.py pauses its collector (on Lambda)
                # and where it is judged (compiled): elsewhere it would only lengthen the run.
                with_reference = bool(extra_env) and layout.startswith("with")
                modules = ("bare", "app", "bare_paused") if with_reference else ("bare", "app")
                bare, ours, *reference = paired_medians(
                    paths, tuple(code.format(module=m) for m in modules), extra_env, runs
                )
                ratio = ours / bare
                # What Lambda runs is the compiled package; the uncompiled rows show why it ships so.
                judged = stage == "import" or layout.startswith("with")
                target = f"<= {TARGET_RATIO}x ({'ok' if ratio <= TARGET_RATIO else 'OVER'})" if judged else "-"
                lines.append(f"| {layout} | {stage} | {bare:.0f} | {ours:.0f} | {ratio:.2f}x | {target} |")
                for bare_paused in reference:
                    lines.append(
                        f"| {layout} | {stage}: reference, the bare app with the same collector pause "
                        f"| {bare_paused:.0f} | {ours:.0f} | {ours / bare_paused:.2f}x | - |"
                    )
    return lines
