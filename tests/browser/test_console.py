"""The staff console in Chromium: sign in and out with the keyboard, learners refused, the strict
Content-Security-Policy holding (no violation reported), tokens never in web storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib.accounts.service import provision_user
from chalicelib.core.security import Role
from tests.support.accounts import PASSWORD, register, staff
from tests.support.screens import shoot


def sign_in(page: Any, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/console")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password", exact=True).press("Enter")  # the keyboard alone submits the form


def test_an_editor_signs_in_sees_who_they_are_and_signs_out(page, base_url):
    provision_user("editor.console@openmrcs.test", PASSWORD, "Eve Editor", Role.EDITOR)
    sign_in(page, base_url, "editor.console@openmrcs.test")
    page.get_by_role("heading", name="Welcome").wait_for()
    assert page.locator("#home-email").inner_text() == "editor.console@openmrcs.test"
    assert page.locator("#home-role").inner_text() == "editor"
    assert page.get_by_role("status").inner_text() == "Signed in as editor.console@openmrcs.test."
    shoot(page, "home")
    stored = page.evaluate("() => JSON.stringify([Object.keys(localStorage), Object.keys(sessionStorage)])")
    assert stored == "[[],[]]" and page.context.cookies() == []  # tokens live in memory only
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.problems == []


def test_the_first_load_is_six_small_same_origin_requests(page, base_url):
    """The page, its style and its four script modules: nothing from another origin, ~70 KB in all."""
    loaded: list[tuple[str, int]] = []
    page.on("requestfinished", lambda request: loaded.append((request.url, request.sizes()["responseBodySize"])))
    page.goto(f"{base_url}/console")
    page.get_by_role("heading", name="Sign in").wait_for()
    page.wait_for_load_state("networkidle")
    names = sorted(url.removeprefix(base_url) for url, _ in loaded)
    assert names == [
        "/console",
        "/console/console.css",
        "/console/console.js",
        "/console/content.js",
        "/console/core.js",
        "/console/questions.js",
    ]
    assert sum(size for _, size in loaded) < 80_000


def test_a_learner_is_refused_the_console(client, page, base_url):
    learner = register(client, "learner.console@example.com")
    sign_in(page, base_url, learner["user"]["email"])
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "for content editors, examiners and admins" in alert.inner_text()
    assert page.locator("#home").is_hidden()
    assert page.problems == []


def test_a_wrong_password_is_shown_and_the_page_keeps_its_policy(page, base_url):
    provision_user("admin.console@openmrcs.test", PASSWORD, "Ada Admin", Role.ADMIN)
    response = page.goto(f"{base_url}/console")
    shoot(page, "sign-in")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    page.get_by_label("Email", exact=True).fill("admin.console@openmrcs.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()
    assert page.get_by_role("alert").inner_text() != ""
    assert page.locator("#home").is_hidden()


AXE = Path(__file__).with_name("vendor") / "axe-4.10.3.min.js"  # axe-core 4.10.3 (MPL-2.0), test-only


def serious_violations(page: Any) -> list[str]:
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


def test_the_screens_have_no_serious_accessibility_violations(client, browser, base_url):
    provision_user("admin.a11y@openmrcs.test", PASSWORD, "Ada Admin", Role.ADMIN)
    learner = register(client, "a11y.learner@example.com")
    context = browser.new_context(bypass_csp=True)  # only to inject the checker
    page = context.new_page()
    try:
        page.goto(f"{base_url}/console")
        assert serious_violations(page) == []
        sign_in(page, base_url, "admin.a11y@openmrcs.test")
        page.get_by_role("heading", name="Welcome").wait_for()
        assert serious_violations(page) == []
        page.get_by_role("button", name="Users").click()
        page.get_by_role("button", name="Search").click()
        page.get_by_role("row", name="a11y.learner@example.com").wait_for()
        assert serious_violations(page) == []
        page.get_by_role("button", name="Audit log").click()
        page.get_by_label("Entity (type:id, e.g. user:01ab…)").fill(f"user:{learner['user']['id']}")
        page.get_by_role("button", name="Show").click()
        page.get_by_role("status").filter(has_text="event(s)").wait_for()
        assert serious_violations(page) == []
        page.get_by_role("button", name="Import").click()
        assert serious_violations(page) == []
        page.get_by_role("button", name="Exam templates").click()
        page.get_by_text("question(s) in this paper.").wait_for()
        assert serious_violations(page) == []
        page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
        assert any(v.startswith("label:") for v in serious_violations(page))  # the checker does check
    finally:
        context.close()


def test_an_admin_finds_a_learner_grants_extra_time_and_sees_it_in_the_audit_log(client, page, base_url):
    provision_user("admin.grants@openmrcs.test", PASSWORD, "Ada Admin", Role.ADMIN)
    learner = register(client, "candidate.extra@example.com")
    sign_in(page, base_url, "admin.grants@openmrcs.test")
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Users").click()
    page.get_by_label("Email starts with").fill("candidate.")
    page.get_by_label("Email starts with").press("Enter")
    row = page.get_by_role("row", name="candidate.extra@example.com")
    row.wait_for()
    row.get_by_label("Extra time for candidate.extra@example.com (%)").fill("25")
    row.get_by_role("button", name="Grant extra time to candidate.extra@example.com").click()
    page.get_by_text("Extra time for candidate.extra@example.com set to 25%.").wait_for()
    shoot(page, "users")
    page.get_by_role("button", name="Audit log").click()
    page.get_by_label("Entity (type:id, e.g. user:01ab…)").fill(f"user:{learner['user']['id']}")
    page.get_by_role("button", name="Show").click()
    event = page.get_by_role("listitem").filter(has_text="user.extra_time_changed")
    event.wait_for()
    assert '"extra_time_percent": 25' in event.inner_text() and '"extra_time_percent": 0' in event.inner_text()
    shoot(page, "audit")
    assert page.problems == []


def test_editors_do_not_see_the_admin_screens(page, base_url):
    provision_user("editor.nav@openmrcs.test", PASSWORD, "Eve Editor", Role.EDITOR)
    sign_in(page, base_url, "editor.nav@openmrcs.test")
    page.get_by_role("heading", name="Welcome").wait_for()
    assert page.get_by_role("button", name="Users").count() == 0
    assert page.get_by_role("button", name="Audit log").count() == 0


def test_an_editor_runs_a_dry_run_import_and_sees_the_row_errors(client, page, base_url):
    from chalicelib.core.tasks import run_pending
    from tests.support.content import category

    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy")
    csv = (
        "stem,category,option_1,option_2,correct,status\n"
        "Which nerve supplies the deltoid muscle in the shoulder?,anatomy,Axillary,Radial,1,published\n"
        "Which artery is at risk in a supracondylar fracture?,cardiology,Brachial,Ulnar,1,published\n"
    )
    sign_in(page, base_url, editor["user"]["email"])
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Import").click()
    page.get_by_label("File (.csv or .json)").set_input_files(
        files=[{"name": "questions.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    assert page.get_by_label("Dry run (write nothing)").is_checked()
    page.get_by_role("button", name="Start import").click()
    page.get_by_text("Dry run queued").wait_for()
    assert run_pending() == 1  # the task worker runs the job (a thread locally, a Lambda when deployed)
    page.get_by_text("Dry run completed: 2 rows, 1 valid, 0 skipped, 1 failed.").wait_for()
    problem = page.get_by_role("row").filter(has_text="category: no such active category")
    assert problem.get_by_role("cell").first.inner_text() == "2"
    shoot(page, "import")
    assert client.get("/questions?category=anatomy", token=editor["access"]).json["items"] == []  # nothing written
    assert page.problems == []


def test_an_examiner_builds_a_quick_mock_from_a_blueprint(client, page, base_url):
    from tests.support.practice import small_bank

    small_bank(client)
    examiner = staff(client, Role.EXAMINER)
    sign_in(page, base_url, examiner["user"]["email"])
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Exam templates").click()
    page.get_by_label("Anatomy (6 published)").fill("3")
    page.get_by_label("Pathology (6 published)").fill("2")
    page.get_by_text("5 question(s) in this paper.").wait_for()
    form = page.get_by_role("region", name="New mock exam from a blueprint")
    form.get_by_label("Name").fill("Quick Mock")
    page.get_by_label("Duration (minutes)").fill("10")
    page.get_by_role("button", name="Create template").click()
    page.get_by_text('Template "Quick Mock" created: 5 questions, 10 minutes.').wait_for()
    shoot(page, "exam-template")
    learner = register(client)
    listed = client.get("/exams/templates", token=learner["access"]).json
    assert [(t["name"], t["total_questions"]) for t in listed] == [("Quick Mock", 5)]
    page.get_by_label("Anatomy (6 published)").fill("7")  # more than there are
    form.get_by_label("Name").fill("Too big")
    page.get_by_role("button", name="Create template").click()
    page.locator("#blueprint\\.anatomy-error").filter(has_text="Only 6 published questions").wait_for()
    assert page.problems == [] or all("422" in p for p in page.problems)


def test_signing_out_and_in_again_does_not_repeat_actions(client, page, base_url):
    """Each screen's handlers are wired once per page load: a second sign-in must not make one
    click act twice (one grant, one audit event)."""
    from chalicelib.audit.data import events_for_entity

    provision_user("admin.twice@openmrcs.test", PASSWORD, "Ada Admin", Role.ADMIN)
    learner = register(client, "twice.learner@example.com")
    for _ in range(2):
        sign_in(page, base_url, "admin.twice@openmrcs.test")
        page.get_by_role("heading", name="Welcome").wait_for()
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("Email", exact=True).fill("admin.twice@openmrcs.test")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password", exact=True).press("Enter")
    page.get_by_role("button", name="Users").click()
    page.get_by_label("Email starts with").fill("twice.")
    searches: list[str] = []
    page.on("request", lambda request: searches.append(request.url) if "/admin/users?" in request.url else None)
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row", name="twice.learner@example.com")
    row.wait_for()
    page.wait_for_timeout(300)  # a duplicated handler's request would be sent meanwhile
    assert len(searches) == 1 and page.get_by_role("row", name="twice.learner@example.com").count() == 1
    row.get_by_label("Extra time for twice.learner@example.com (%)").fill("10")
    row.get_by_role("button", name="Grant extra time to twice.learner@example.com").click()
    page.get_by_text("set to 10%").wait_for()
    page.wait_for_timeout(300)  # a second, duplicated request would land meanwhile
    changes = [e for e in events_for_entity("user", learner["user"]["id"]) if e.action == "user.extra_time_changed"]
    assert len(changes) == 1


def test_an_admin_changes_a_role_and_ends_a_users_sessions(client, page, base_url):
    provision_user("admin.roles@openmrcs.test", PASSWORD, "Ada Admin", Role.ADMIN)
    learner = register(client, "promoted@example.com")
    sign_in(page, base_url, "admin.roles@openmrcs.test")
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Users").click()
    page.get_by_label("Email starts with").fill("promoted")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row", name="promoted@example.com")
    row.get_by_label("Role of promoted@example.com", exact=True).select_option("editor")
    row.get_by_role("button", name="Change the role of promoted@example.com").click()
    page.get_by_text("promoted@example.com is now editor.").wait_for()
    row.get_by_role("button", name="End every session of promoted@example.com").click()
    page.get_by_text("Every session of promoted@example.com has ended.").wait_for()
    assert client.post("/auth/refresh", {"refresh": learner["refresh"]}).status == 401
    again = client.post("/auth/login", {"email": "promoted@example.com", "password": PASSWORD}).json
    assert client.get("/me", token=again["access"]).json["role"] == "editor"
    row.get_by_role("button", name="Reset two-factor sign-in of promoted@example.com").click()
    page.get_by_role("alert").filter(has_text="Two-factor sign-in is not on").wait_for()  # the API's 409, shown
