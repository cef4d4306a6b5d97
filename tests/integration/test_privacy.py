"""GDPR: a user's data in their hands. The export holds every item the user's keys reach and no
secret; erasure leaves nothing, the address can register again, and late stream records recreate
nothing; a staff member's audit events stay with the actor pseudonymised."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from chalicelib.accounts import data as accounts_data
from chalicelib.core.config import get_settings
from chalicelib.core.db import TableItem, partition_items, user_pk
from chalicelib.core.security import Role
from chalicelib.exams import data as exams_data
from chalicelib.practice import data as practice_data
from chalicelib.privacy.rules import pseudonym
from tests.integration.test_exams import blueprint_template
from tests.support.accounts import PASSWORD, register, staff
from tests.support.practice import answer, answers_by_id, right, small_bank, start, wrong


@pytest.fixture
def bank(client):
    return small_bank(client)


def study(client, token, bank, stream):
    """Practice answers, an exam, a flag and a dismissal: data in every corner of the account."""
    by_id = answers_by_id(bank)
    session = start(client, token, categories=["anatomy"], question_count=4)
    for index, qid in enumerate(session["question_ids"]):
        answer(client, token, session["id"], qid, right(by_id[qid]) if index % 2 else wrong(by_id[qid]))
    client.post(f"/practice/sessions/{session['id']}/complete", token=token)
    template = blueprint_template(client, staff(client, Role.EXAMINER))
    exam = client.post("/exams/sessions", {"template_id": template["id"]}, token=token).json
    first = exam["questions"][0]["id"]
    client.put(
        f"/exams/sessions/{exam['id']}/answers",
        {"answers": [{"question_id": first, "selected_option_ids": right(by_id[first])}]},
        token=token,
    )
    client.post(f"/exams/sessions/{exam['id']}/submit", token=token)
    client.post("/recommendations/dismiss", {"category": "pathology"}, token=token)
    stream.poll_once()
    return session, exam


def everything_of(user_id: str) -> list[dict[str, Any]]:
    """Every raw item in the table that names this user anywhere: a Scan, in the test only."""
    table = boto3.resource("dynamodb").Table(get_settings().table_name)
    items: list[dict[str, Any]] = []
    start_key: Any = None
    while True:
        page = table.scan(ExclusiveStartKey=start_key) if start_key else table.scan()
        # The erasure marker (the id alone, for two days) is the one thing meant to remain.
        items += [i for i in page["Items"] if user_id in json.dumps(i, default=repr) and i["type"] != "ErasedUser"]
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return items


@pytest.mark.allow_scan
def test_the_export_holds_every_item_of_the_user_and_no_secret(client, bank, stream):
    registered = register(client, "exporter@example.com")
    other = register(client, "someone-else@example.com")
    token, user_id = registered["access"], registered["user"]["id"]
    session, exam = study(client, token, bank, stream)
    study(client, other["access"], bank, stream)
    exported = client.get("/me/export", token=token)
    assert exported.status == 200
    items = exported.json["items"]
    for kind in (
        "User",
        "AuthSession",
        "PracticeSession",
        "PracticeAnswer",
        "ExamSession",
        "ExamSheet",
        "ExamPart",
        "ExamResult",
        "CategoryAggregate",
        "DailyStat",
        "ReviewCard",
        "TopicDismissal",
        "DashboardSnapshot",
    ):
        assert items.get(kind), kind
    reached = partition_items(user_pk(user_id))
    reached += practice_data.answers(session["id"]) + exams_data.session_partition(exam["id"])
    assert sum(len(v) for k, v in items.items() if k != "AuditEvent") == len(reached)
    text = exported.body.decode()
    for secret in ("password_hash", "current_jti", "totp_secret", "recovery_codes", "$argon2"):
        assert secret not in text
    assert other["user"]["id"] not in text and "someone-else@example.com" not in text


@pytest.mark.allow_scan
def test_erasure_leaves_nothing_and_the_address_can_register_again(client, bank, stream):
    registered = register(client, "leaver@example.com")
    token, user_id = registered["access"], registered["user"]["id"]
    _, exam = study(client, token, bank, stream)
    assert everything_of(user_id)
    assert any(i["type"] == "CohortPaperStats" for i in everything_of(exam["id"]))  # the review's statistics
    wrong_password = client.request("DELETE", "/me", {"password": "Not-the-password-1"}, token=token)
    assert wrong_password.status == 401
    erased = client.request("DELETE", "/me", {"password": PASSWORD}, token=token)
    assert erased.status == 200 and erased.json["deleted_items"] > 10
    stream.poll_once()  # the deletions flow through the pipeline: nothing may come back
    assert everything_of(user_id) == []
    # nothing keyed by the learner's sittings either (the audit log keeps their opaque ids, by design)
    assert [i["type"] for i in everything_of(exam["id"]) if i["type"] != "AuditEvent"] == []
    assert accounts_data.is_erased(user_id)
    assert client.get("/me", token=token).status == 401
    assert register(client, "leaver@example.com")["user"]["id"] != user_id


@pytest.mark.allow_scan
def test_late_stream_records_do_not_recreate_an_erased_learner(client, bank, stream):
    registered = register(client, "quick-leaver@example.com")
    token, user_id = registered["access"], registered["user"]["id"]
    by_id = answers_by_id(bank)
    session = start(client, token, categories=["anatomy"], question_count=2)
    for qid in session["question_ids"]:
        answer(client, token, session["id"], qid, right(by_id[qid]))
    assert client.patch("/me", {"exam_date": "2027-06-01", "daily_minutes": 30}, token=token).status == 200
    assert client.patch("/me", {"exam_date": None}, token=token).status == 200  # a cleared date
    assert client.request("DELETE", "/me", {"password": PASSWORD}, token=token).status == 200
    stream.poll_once()  # the answers' and the profile's records arrive after the erasure
    assert everything_of(user_id) == []


def test_a_staff_members_audit_events_stay_with_the_actor_pseudonymised(client):
    editor = staff(client, Role.EDITOR)
    admin = staff(client, Role.ADMIN)
    client.post("/categories", {"slug": "kept-topic", "name": "Kept"}, token=editor["access"])
    assert client.request("DELETE", "/me", {"password": PASSWORD}, token=editor["access"]).status == 200
    events = client.get("/admin/audit?entity=category:kept-topic", token=admin["access"]).json["items"]
    assert [e["actor_id"] for e in events] == [pseudonym(editor["user"]["id"])]
    assert client.get(f"/admin/audit?actor={editor['user']['id']}", token=admin["access"]).json["items"] == []


def test_erasure_with_two_factor_needs_a_code(client):
    import pyotp

    registered = register(client, "two-factor-leaver@example.com")
    token = registered["access"]
    secret = client.post("/me/2fa/setup", token=token).json["secret"]
    client.post("/me/2fa/confirm", {"code": pyotp.TOTP(secret).now()}, token=token)
    refused = client.request("DELETE", "/me", {"password": PASSWORD}, token=token)
    assert refused.status == 401
    assert TableItem.count(user_pk(registered["user"]["id"])) > 0


def test_a_large_export_is_prepared_by_the_worker_and_fetched_by_a_short_lived_link(client, bank, stream, monkeypatch):
    from urllib.parse import unquote, urlparse

    from chalicelib.core.tasks import run_pending

    big = get_settings().model_copy(update={"export_inline_max_items": 5})
    monkeypatch.setattr("chalicelib.privacy.service.get_settings", lambda: big)
    registered = register(client, "long-history@example.com")
    token, user_id = registered["access"], registered["user"]["id"]
    study(client, token, bank, stream)
    first = client.get("/me/export", token=token)
    assert first.status == 202 and first.json["status"] == "preparing" and first.headers["retry-after"] == "30"
    assert client.get("/me/export", token=token).status == 202  # one job, not one per request
    assert run_pending() == 1
    ready = client.get("/me/export", token=token)
    assert ready.status == 200 and ready.json["expires_in"] == 900
    url = urlparse(ready.json["url"])
    assert "X-Amz-Expires=900" in url.query and "X-Amz-Signature=" in url.query  # presigned, 15 minutes
    s3 = boto3.client("s3")
    bucket = get_settings().export_bucket
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"exports/{user_id}/")["Contents"]]
    assert len(keys) == 1 and keys[0].endswith(".json") and unquote(url.path).endswith(keys[0])
    document = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    assert document["user_id"] == user_id and document["items"]["PracticeAnswer"]
    assert "password_hash" not in json.dumps(document)
    assert client.request("DELETE", "/me", {"password": PASSWORD}, token=token).status == 200
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=f"exports/{user_id}/")  # erased too
