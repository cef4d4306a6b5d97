"""Sessions that end, end everywhere: a revoked session's access token is refused on every route,
at once on the container that revoked it and within 30 s on any other; roles are the current ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chalicelib.accounts import data as accounts_data
from chalicelib.accounts import service as accounts_service
from chalicelib.accounts.data import AuthSession, UserItem
from chalicelib.core import config
from chalicelib.core.security import Role
from local_stack.meter import metering
from tests.integration.test_exams import blueprint_template
from tests.integration.test_tokens import claims_of
from tests.support.accounts import PASSWORD, register, staff
from tests.support.content import category
from tests.support.practice import small_bank

ROUTES = ("/me", "/dashboard", "/practice/sessions", "/exams/sessions", "/analytics/overview")


def login(client, email):
    response = client.post("/auth/login", {"email": email, "password": PASSWORD})
    assert response.status == 200, response
    return response.json


def refused_everywhere(client, token):
    return all(client.get(path, token=token).status == 401 for path in ROUTES)


def test_logout_ends_the_access_token_at_once(client):
    registered = register(client)
    token = registered["access"]
    assert client.get("/me", token=token).status == 200
    assert client.post("/auth/logout", token=token).status in (200, 204)
    assert refused_everywhere(client, token)


def test_revoking_a_device_ends_its_access_token(client):
    email = "two-devices@example.com"
    phone = register(client, email)
    laptop = login(client, email)
    laptop_sid = claims_of(laptop["access"])["sid"]
    assert client.delete(f"/me/sessions/{laptop_sid}", token=phone["access"]).status in (200, 204)
    assert refused_everywhere(client, laptop["access"])
    assert client.get("/me", token=phone["access"]).status == 200  # the other device stays signed in


def test_refresh_reuse_ends_the_family_and_its_access_token(client):
    registered = register(client)
    first = client.post("/auth/refresh", {"refresh": registered["refresh"]}).json
    assert client.post("/auth/refresh", {"refresh": registered["refresh"]}).status == 401  # reuse detected
    assert refused_everywhere(client, first["access"])


def test_a_password_reset_ends_every_session(client, outbox):
    email = "forgetful@example.com"
    phone = register(client, email)
    laptop = login(client, email)
    client.post("/auth/forgot-password", {"email": email})
    token = outbox.messages()[-1]["body"].split("token=")[1].split()[0]
    assert client.post("/auth/reset-password", {"token": token, "new_password": "An0ther-Secret-Phrase"}).status in (
        200,
        204,
    )
    assert refused_everywhere(client, phone["access"]) and refused_everywhere(client, laptop["access"])


def test_a_demoted_editor_is_refused_at_once(client):
    editor = staff(client, Role.EDITOR)
    admin = staff(client, Role.ADMIN)
    body = {"slug": "new-topic", "name": "New topic"}
    assert client.post("/categories", body, token=editor["access"]).status == 201
    assert client.patch(f"/admin/users/{editor['user']['id']}", {"role": "user"}, token=admin["access"]).status == 200
    refused = client.post("/categories", {"slug": "other-topic", "name": "Other"}, token=editor["access"])
    assert refused.status == 403


def test_another_containers_revocation_is_enforced_within_30_seconds(client):
    """A revocation written elsewhere (another Lambda container) reaches this one's cache in 30 s."""
    registered = register(client)
    token, user_id = registered["access"], registered["user"]["id"]
    sid = claims_of(token)["sid"]
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        assert client.get("/me", token=token).status == 200
        session = accounts_data.get_session(user_id, sid)
        assert session is not None
        session.update(actions=[AuthSession.revoked_at.set(1)])  # as another container's logout would
        traveller.shift(timedelta(seconds=29))
        assert client.get("/me", token=token).status == 200  # this container's cached answer
        traveller.shift(timedelta(seconds=2))
        assert refused_everywhere(client, token)


def test_another_containers_demotion_is_enforced_within_30_seconds(client):
    editor = staff(client, Role.EDITOR)
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        assert client.post("/categories", {"slug": "first-one", "name": "First"}, token=editor["access"]).status == 201
        user = accounts_data.get_user(editor["user"]["id"])
        assert user is not None
        user.update(actions=[UserItem.role.set("user")])
        traveller.shift(timedelta(seconds=31))
        later = client.post("/categories", {"slug": "second-one", "name": "Second"}, token=editor["access"])
    assert later.status == 403


@pytest.mark.parametrize("warm", [True, False])
def test_dashboard_costs_one_getitem_warm_and_one_batch_more_cold(client, warm):
    category(client, staff(client, Role.EDITOR), "anatomy")
    token = register(client)["access"]
    client.get("/dashboard", token=token)  # featured resources and the taxonomy cached, as when warm
    if not warm:  # a container that has never seen this session (the shared caches stay warm)
        accounts_service._session_states.clear()
    with metering() as meter:
        assert client.get("/dashboard", token=token).status == 200
    assert dict(meter.operations) == ({"GetItem": 1} if warm else {"GetItem": 1, "BatchGetItem": 1})


class TestEmailVerification:
    @pytest.fixture
    def required(self, monkeypatch):
        strict = config.get_settings().model_copy(update={"require_verified_email": True})
        monkeypatch.setattr("chalicelib.core.security.get_settings", lambda: strict)

    def test_unverified_learners_practise_but_cannot_start_an_exam_until_verified(self, client, outbox, required):
        small_bank(client)  # the bank the exam draws from
        examiner = staff(client, Role.EXAMINER)
        template = blueprint_template(client, examiner)
        token = register(client, "fresh@example.com")["access"]
        assert (
            client.post("/practice/sessions", {"categories": ["anatomy"], "question_count": 1}, token=token).status
            == 201
        )
        refused = client.post("/exams/sessions", {"template_id": template["id"]}, token=token)
        assert refused.status == 403 and refused.error_code == "email_not_verified"
        assert "verify" in refused.json["error"]["message"].lower()
        link = next(m for m in outbox.messages() if m["to"] == "fresh@example.com")["body"]
        assert client.post("/auth/verify-email", {"token": link.split("token=")[1].split()[0]}).status == 200
        assert client.post("/exams/sessions", {"template_id": template["id"]}, token=token).status == 201

    def test_unverified_staff_are_refused_staff_routes(self, client, required):
        editor = staff(client, Role.EDITOR)  # provisioned accounts are verified
        assert client.post("/categories", {"slug": "ok-topic", "name": "OK"}, token=editor["access"]).status == 201
        user = accounts_data.get_user(editor["user"]["id"])
        assert user is not None
        user.update(actions=[UserItem.is_email_verified.set(False)])
        accounts_service._session_states.clear()  # as a container that has not seen this session yet
        refused = client.post("/categories", {"slug": "no-topic", "name": "No"}, token=editor["access"])
        assert refused.status == 403 and refused.error_code == "email_not_verified"

    def test_off_by_default_on_the_local_stack_and_in_tests(self, client):
        assert config.get_settings().require_verified_email is False
