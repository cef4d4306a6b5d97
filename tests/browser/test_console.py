"""The staff console in Chromium: sign in and out with the keyboard, learners refused, the strict
Content-Security-Policy holding (no violation reported), tokens never in web storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib.accounts.service import provision_user
from chalicelib.core.security import Role
from tests.support.accounts import PASSWORD, register


def sign_in(page: Any, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/console")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # the keyboard alone submits the form


def test_an_editor_signs_in_sees_who_they_are_and_signs_out(page, base_url):
    provision_user("editor.console@openmrcs.test", PASSWORD, "Eve Editor", Role.EDITOR)
    sign_in(page, base_url, "editor.console@openmrcs.test")
    page.get_by_role("heading", name="Welcome").wait_for()
    assert page.locator("#home-email").inner_text() == "editor.console@openmrcs.test"
    assert page.locator("#home-role").inner_text() == "editor"
    assert page.get_by_role("status").inner_text() == "Signed in as editor.console@openmrcs.test."
    stored = page.evaluate("() => JSON.stringify([Object.keys(localStorage), Object.keys(sessionStorage)])")
    assert stored == "[[],[]]" and page.context.cookies() == []  # tokens live in memory only
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.problems == []


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
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    page.get_by_label("Email").fill("admin.console@openmrcs.test")
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


def test_the_screens_have_no_serious_accessibility_violations(browser, base_url):
    provision_user("examiner.console@openmrcs.test", PASSWORD, "Ed Examiner", Role.EXAMINER)
    context = browser.new_context(bypass_csp=True)  # only to inject the checker
    page = context.new_page()
    try:
        page.goto(f"{base_url}/console")
        assert serious_violations(page) == []
        sign_in(page, base_url, "examiner.console@openmrcs.test")
        page.get_by_role("heading", name="Welcome").wait_for()
        assert serious_violations(page) == []
        page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
        assert any(v.startswith("label:") for v in serious_violations(page))  # the checker does check
    finally:
        context.close()
