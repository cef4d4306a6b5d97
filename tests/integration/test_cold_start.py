"""What a cold start imports: app.py registers routes from the generated index without importing a
domain; a request imports the edge and its own domain only; the worker loads its task modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.coldstart import FIRST_REQUEST, paired_medians
from infra import route_index

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pydantic", "pynamodb", "aws_lambda_powertools", "jwt", "email_validator", "argon2", "boto3")


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code` in the project root."""
    report = "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    output = subprocess.run(
        [sys.executable, "-c", code + report], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(output.splitlines()[-1]))


def test_the_route_index_matches_the_domains_declarations():
    assert route_index.INDEX.read_text() == route_index.render(), "run `make routes`"


def test_importing_the_app_imports_no_domain_and_no_heavy_library():
    loaded = _modules_after("import app")
    assert sorted(m for m in loaded if m.startswith("chalicelib.")) == [
        "chalicelib.core",
        "chalicelib.core.routing",
        "chalicelib.route_index",
        "chalicelib.system",
        "chalicelib.system.console",  # the staff console's file server: pathlib and Chalice only
    ]
    assert not [m for m in HEAVY if m in loaded]


def test_lambda_init_freezes_what_it_built_and_leaves_the_collector_on():
    """On Lambda, init (imports, the DynamoDB client, the settings) runs with the collector paused
    and ends with its objects frozen, so later full collections do not walk them."""
    code = "import app, gc, json\nprint(json.dumps([gc.isenabled(), gc.get_freeze_count()]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "api"}
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    enabled, frozen = json.loads(output.stdout.splitlines()[-1])
    assert enabled
    assert frozen > 50_000  # the init heap: pydantic, pynamodb, botocore's client and model


def test_the_cold_start_bench_stops_timing_once_initialised(tmp_path):
    """A Lambda container is never torn down in front of a request, so the bench's figure ends when
    the stage is done: work at interpreter exit (here a 1 s atexit handler) is not counted."""
    paths = {name: tmp_path / name for name in ("task", "layer", "runtime")}
    for path in paths.values():
        path.mkdir()
    slow_exit = "import atexit, time\natexit.register(time.sleep, 1.0)"
    (timed,) = paired_medians(paths, (slow_exit,), {}, runs=1)
    assert timed < 900


def test_a_first_request_imports_its_own_domain_only():
    loaded = _modules_after(FIRST_REQUEST.format(module="app"))  # GET /health
    domains = {m.split(".")[1] for m in loaded if m.startswith("chalicelib.") and m.count(".") >= 2}
    assert "system" in domains
    assert not domains & {"exams", "practice", "analytics", "questions", "accounts", "privacy"}, domains


def test_the_settings_are_read_without_a_settings_framework():
    """GET /health reads the settings; they come from os.environ through pydantic alone, not through
    pydantic-settings, whose import brought asyncio, argparse and python-dotenv into every cold start."""
    loaded = _modules_after(FIRST_REQUEST.format(module="app"))
    assert "chalicelib.core.config" in loaded
    assert not {"pydantic_settings", "asyncio", "argparse", "dotenv"} & loaded


def test_every_route_answers_through_its_lazily_imported_domain(client):
    """Each route of the index reaches its handler (an unknown one would 500 on its first call)."""
    from chalicelib.route_index import ROUTES

    for method, path, *_ in ROUTES:
        concrete = path.replace("{", "x").replace("}", "")
        response = client.request(method, concrete)
        assert response.status < 500, (method, path, response.status)


def test_the_task_worker_loads_its_task_modules():
    """In a fresh interpreter (this test process has every module loaded already)."""
    code = (
        "import app, json\napp.load_tasks()\nfrom chalicelib.core.tasks import TASKS\nprint(json.dumps(sorted(TASKS)))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    registered = set(json.loads(output.stdout.splitlines()[-1]))
    assert registered == {"questions.import", "privacy.export", "notifications.deliver_broadcast", "exams.remark"}
