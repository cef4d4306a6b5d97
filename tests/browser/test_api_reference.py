"""The API reference in Chromium: Swagger UI from the deployment (no network beyond it), grouped by
tag, showing the dashboard's response fields, with no Content-Security-Policy violation."""

from __future__ import annotations

from tests.support.screens import shoot


def test_the_reference_shows_the_dashboard_response_fields(page, base_url):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{base_url}/api/v1/docs")
    page.get_by_role("heading", name="dashboard").wait_for()  # operations grouped by tag
    dashboard = page.locator("#operations-dashboard-dashboard")
    dashboard.locator(".opblock-summary").click()
    dashboard.get_by_text("overall_progress").first.wait_for()
    assert "suggested_topics" in dashboard.inner_text()
    shoot(page, "api-reference")
    assert page.get_by_role("button", name="Authorize").is_visible()  # a bearer token for "try it out"
    assert all(url.startswith(base_url) or url.startswith("data:") for url in requested), requested
    assert [p for p in page.problems if "Content Security Policy" in p] == []
