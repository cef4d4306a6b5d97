"""The audit log records session mutations and account security events, not only staff edits."""

from __future__ import annotations

from chalicelib.core.security import Role
from tests.integration.test_exams import blueprint_template
from tests.integration.test_tokens import claims_of
from tests.support.accounts import PASSWORD, register, staff
from tests.support.practice import small_bank


def actions_about(client, admin, entity):
    return [e["action"] for e in client.get(f"/admin/audit?entity={entity}", token=admin["access"]).json["items"]]


def test_security_events_are_recorded(client):
    admin = staff(client, Role.ADMIN)
    registered = register(client, "watched@example.com")
    user_id = registered["user"]["id"]
    for _ in range(6):
        client.post("/auth/login", {"email": "watched@example.com", "password": "Wrong-guess-1"})
    client.get("/me/export", token=registered["access"])
    client.post("/auth/logout", token=registered["access"])
    actions = actions_about(client, admin, f"user:{user_id}")
    assert actions.count("auth.login_failed") == 5
    assert "auth.login_throttled" in actions
    assert "user.data_exported" in actions and "auth.session_revoked" in actions
    revoked = next(
        e
        for e in client.get(f"/admin/audit?entity=user:{user_id}", token=admin["access"]).json["items"]
        if e["action"] == "auth.session_revoked"
    )
    assert revoked["after"] == {"reason": "logout"} and PASSWORD not in str(revoked)


def test_exam_start_and_submit_are_recorded_with_who_submitted(client):
    small_bank(client)
    admin = staff(client, Role.ADMIN)
    template = blueprint_template(client, staff(client, Role.EXAMINER))
    token = register(client)["access"]
    session = client.post("/exams/sessions", {"template_id": template["id"]}, token=token).json
    client.post(f"/exams/sessions/{session['id']}/submit", token=token)
    events = client.get(f"/admin/audit?entity=exam_session:{session['id']}", token=admin["access"]).json["items"]
    assert [e["action"] for e in events] == ["exam.submitted_by_learner", "exam.started"]  # newest first
    assert {e["actor_id"] for e in events} == {claims_of(token)["sub"]}
