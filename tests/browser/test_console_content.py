"""The content screens in Chromium: find a question by a word, fix it, publish it (a learner sees
the change); versions side by side and restore; a change made meanwhile is shown, not overwritten;
taxonomy, pages, resources and announcements; and every screen checked by axe-core."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from chalicelib.core.security import Role
from tests.browser.test_console import serious_violations, sign_in
from tests.support.accounts import register, staff
from tests.support.content import category, question
from tests.support.screens import shoot

STEM = "A 34-year-old roofer has a reducible groin lump; teh inguinal hernia lies above which ligament?"
FIXED = STEM.replace("teh", "the")


def open_questions(page: Any, base_url: str, email: str) -> None:
    sign_in(page, base_url, email)
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Questions").click()
    page.get_by_role("heading", name="Questions").wait_for()


def region(page: Any, name: str) -> Any:
    """One screen (hidden screens have no role, so their same-named fields do not match)."""
    return page.get_by_role("region", name=name, exact=True)


def find(page: Any, words: str, status: str = "published") -> None:
    region(page, "Questions").get_by_label("Status").select_option(status)
    search = page.get_by_label("Words in the stem or options")
    search.fill(words)
    search.press("Enter")


def test_an_editor_finds_a_question_by_a_word_fixes_it_and_publishes_it(client, page, base_url, stream):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy", ("groin",))
    draft = question(client, editor, "anatomy", "groin", stem=STEM, status="draft")
    question(client, editor, "anatomy", stem="Which nerve is at risk in an axillary node clearance operation?")
    stream.poll_once()  # the search index follows the stream
    learner = register(client)
    assert client.get(f"/questions/{draft['id']}", token=learner["access"]).status == 404

    open_questions(page, base_url, editor["user"]["email"])
    find(page, "HERNIA", status="draft")
    page.get_by_text("1 question(s) shown.").wait_for()
    shoot(page, "questions")
    page.get_by_role("button", name=STEM[:87]).click()  # the stem's excerpt opens the editor
    page.get_by_role("heading", name="Edit question").wait_for()
    preview = page.get_by_role("complementary", name="What a learner sees")
    assert STEM in preview.inner_text()
    assert "Correct: Option 1" in preview.inner_text()
    page.get_by_label("Stem", exact=True).fill(FIXED)
    page.get_by_label("Explanation (Markdown)").fill("The **inguinal ligament** lies below the canal.")
    assert preview.locator("strong").inner_text() == "inguinal ligament"  # the Markdown preview
    assert FIXED in preview.inner_text()  # live: before any save
    shoot(page, "question-editor")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved: draft, version 2.").wait_for()
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Saved: published, version 3.").wait_for()

    seen = client.get(f"/questions/{draft['id']}", token=learner["access"])
    assert seen.status == 200 and seen.json["stem"] == FIXED
    assert "is_correct" not in seen.json["options"][0]
    stream.poll_once()
    page.get_by_role("button", name="Back to the list").click()
    find(page, "hernia")
    page.get_by_text("1 question(s) shown.").wait_for()
    assert page.problems == []


def test_versions_side_by_side_and_a_restore(client, page, base_url):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy")
    created = question(client, editor, "anatomy", stem=STEM)
    client.patch(f"/questions/{created['id']}", {"stem": FIXED, "difficulty": 4}, token=editor["access"])

    open_questions(page, base_url, editor["user"]["email"])
    region(page, "Questions").get_by_label("Category", exact=True).select_option("anatomy")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=FIXED[:87]).click()
    page.get_by_role("button", name="Versions").click()
    diff = page.get_by_role("table", name="Version A and version B side by side")
    diff.wait_for()
    assert diff.get_by_role("row", name="stem (changed)").count() == 1
    assert diff.get_by_role("row", name="difficulty (changed)").count() == 1
    assert diff.get_by_role("rowheader", name="category", exact=True).count() == 1  # unchanged rows say so
    shoot(page, "question-versions")
    page.get_by_role("button", name="Restore version 1").click()
    page.get_by_text("Version 1 restored as version 3.").wait_for()
    now = client.get(f"/questions/{created['id']}", token=editor["access"]).json
    assert (now["stem"], now["difficulty"], now["version"], now["status"]) == (STEM, 3, 3, "published")
    assert [o["id"] for o in now["options"]] == [o["id"] for o in created["options"]]  # ids kept
    assert page.problems == []


def test_a_change_made_meanwhile_is_shown_not_overwritten(client, page, base_url):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy")
    created = question(client, editor, "anatomy", stem=STEM)
    open_questions(page, base_url, editor["user"]["email"])
    region(page, "Questions").get_by_label("Category", exact=True).select_option("anatomy")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=STEM[:87]).click()
    page.get_by_label("Stem", exact=True).fill(FIXED + " (console)")
    # Someone else saves first.
    other = client.patch(f"/questions/{created['id']}", {"difficulty": 5}, token=editor["access"])
    assert other.status == 200
    page.get_by_role("button", name="Save").click()
    conflict = page.get_by_role("alert").filter(has_text="changed meanwhile")
    conflict.wait_for()
    assert "version 2" in conflict.inner_text()
    assert page.get_by_label("Stem", exact=True).input_value() == FIXED + " (console)"  # the edit is not thrown away
    now = client.get(f"/questions/{created['id']}", token=editor["access"]).json
    assert now["stem"] == STEM and now["difficulty"] == 5  # and the other change was not overwritten
    page.get_by_role("button", name="Load the latest version").click()
    page.get_by_text("published, version 2").wait_for()
    assert page.get_by_label("Difficulty (1-5)").input_value() == "5"


def test_a_422_is_shown_next_to_its_field(client, page, base_url):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy")
    open_questions(page, base_url, editor["user"]["email"])
    page.get_by_role("button", name="New question").click()
    page.get_by_label("Stem", exact=True).fill("Too short")
    page.get_by_label("Option 1", exact=True).fill("Yes")
    page.get_by_label("Option 2", exact=True).fill("No")
    page.get_by_role("button", name="Save").click()
    page.locator("#ed-stem-error").filter(has_text="at least 10 characters").wait_for()


def test_taxonomy_pages_and_announcements(client, page, base_url):
    from chalicelib.notifications import service as notifications  # noqa: F401  (routes load lazily)

    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy", ("thorax",))
    sign_in(page, base_url, editor["user"]["email"])
    page.get_by_role("heading", name="Welcome").wait_for()

    page.get_by_role("button", name="Taxonomy").click()
    page.get_by_label("Name of Anatomy", exact=True).fill("Applied anatomy")
    page.get_by_label("Status of Anatomy / Thorax").select_option("retired")
    page.get_by_role("button", name="Save Anatomy / Thorax").click()
    page.get_by_text("Anatomy / Thorax saved.").wait_for()
    page.get_by_role("button", name="Save Anatomy", exact=True).click()
    page.get_by_text("Anatomy saved.").wait_for()
    shoot(page, "taxonomy")
    detail = client.get("/categories/anatomy", token=editor["access"]).json
    assert detail["name"] == "Applied anatomy" and detail["subcategories"][0]["status"] == "retired"

    page.get_by_role("button", name="Pages").click()
    pages = region(page, "Pages")
    pages.get_by_label("Address (slug)").fill("terms")
    pages.get_by_label("Title").fill("Terms of use")
    pages.get_by_label("Text (Markdown)").fill("# Terms\n\nBe **kind** to each other.")
    preview = pages.get_by_role("complementary", name="Preview")
    assert preview.locator("strong").inner_text() == "kind"
    pages.get_by_label("Status").select_option("published")
    page.get_by_role("button", name="Save page").click()
    page.get_by_text("Page terms saved (published).").wait_for()
    shoot(page, "pages")
    assert client.get("/pages/terms").json["title"] == "Terms of use"

    learner = register(client)  # an announcement reaches the accounts that exist when it is sent
    page.get_by_role("button", name="Announcements").click()
    region(page, "Announcements").get_by_label("Title").fill("New questions")
    page.get_by_label("Message (Markdown)").fill("Fifty new **anatomy** questions are in.")
    page.get_by_role("button", name="Send").click()
    page.get_by_text('Announcement "New questions" sent.').wait_for()
    page.get_by_role("listitem").filter(has_text="New questions").wait_for()
    shoot(page, "announcements")
    inbox = client.get("/notifications", token=learner["access"]).json
    assert [n["title"] for n in inbox["items"]] == ["New questions"]
    assert page.problems == []


def test_resources_are_added_and_edited(client, page, base_url):
    editor = staff(client, Role.EDITOR)
    sign_in(page, base_url, editor["user"]["email"])
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Resources").click()
    resources = region(page, "Resources")
    resources.get_by_label("Title").fill("Inguinal canal in 5 minutes")
    resources.get_by_label("URL").fill("https://videos.example.com/inguinal")
    resources.get_by_label("Alt text").fill("A surgeon draws the canal")
    resources.get_by_label("Status").select_option("published")
    page.get_by_role("button", name="Add resource").click()
    page.get_by_text("Resource Inguinal canal in 5 minutes saved.").wait_for()
    page.get_by_role("button", name="Edit Inguinal canal in 5 minutes").click()
    resources.get_by_label("Title").fill("The inguinal canal in 5 minutes")
    page.get_by_role("button", name="Save resource").click()
    page.get_by_role("cell", name="The inguinal canal in 5 minutes", exact=True).wait_for()
    shoot(page, "resources")
    listed = client.get("/resources").json["items"]
    assert [r["title"] for r in listed] == ["The inguinal canal in 5 minutes"]


def test_the_content_screens_have_no_serious_accessibility_violations(client, browser, base_url, stream):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy", ("groin",))
    question(client, editor, "anatomy", "groin", stem=STEM)
    stream.poll_once()
    context = browser.new_context(bypass_csp=True)  # only to inject the checker
    page = context.new_page()
    try:
        open_questions(page, base_url, editor["user"]["email"])
        find(page, "hernia")
        page.get_by_text("1 question(s) shown.").wait_for()
        assert serious_violations(page) == []
        page.get_by_role("button", name=STEM[:87]).click()
        page.get_by_role("heading", name="Edit question").wait_for()
        page.get_by_role("button", name="Add media").click()
        assert serious_violations(page) == []
        page.get_by_role("button", name="Versions").click()
        page.get_by_role("table", name="Version A and version B side by side").wait_for()
        assert serious_violations(page) == []
        for screen, heading in (
            ("Reports", "Reports from learners"),
            ("Taxonomy", "Taxonomy"),
            ("Pages", "Pages"),
            ("Resources", "Resources"),
            ("Announcements", "Announcements"),
        ):
            page.get_by_role("button", name=screen, exact=True).click()
            page.get_by_role("heading", name=heading, exact=True).wait_for()
            page.wait_for_timeout(100)  # its data arrives
            assert serious_violations(page) == [], screen
    finally:
        context.close()


def test_an_examiner_builds_a_paper_from_a_fixed_list(client, page, base_url):
    from tests.support.practice import small_bank

    bank = small_bank(client)
    chosen = [q["id"] for q in bank["anatomy"][:3]]
    examiner = staff(client, Role.EXAMINER)
    sign_in(page, base_url, examiner["user"]["email"])
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Exam templates").click()
    form = region(page, "New mock exam from a blueprint")
    form.get_by_label("A fixed list of questions").check()
    form.get_by_label("Question ids, in order (one per line)").fill("\n".join(chosen))
    page.get_by_text("3 question id(s).").wait_for()
    form.get_by_label("Name").fill("Three fixed")
    form.get_by_role("button", name="Create template").click()
    page.get_by_text('Template "Three fixed" created: 3 questions, 60 minutes.').wait_for()
    templates = client.get("/exams/templates", token=examiner["access"]).json
    assert [t["question_ids"] for t in templates if t["name"] == "Three fixed"] == [chosen]


def test_the_audit_log_filters_by_actor_and_period(client, page, base_url):
    from chalicelib.accounts.service import provision_user
    from tests.support.accounts import PASSWORD

    provision_user("admin.audit@openmrcs.test", PASSWORD, "Ada Admin", Role.ADMIN)
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy")
    sign_in(page, base_url, "admin.audit@openmrcs.test")
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Audit log").click()
    page.get_by_label("Or actor (user id)").fill(editor["user"]["id"])
    page.get_by_role("button", name="Show").click()
    page.get_by_role("listitem").filter(has_text="category.created").wait_for()
    audit = region(page, "Audit log")
    audit.get_by_label("From", exact=True).fill("2020-01-01")
    audit.get_by_label("To", exact=True).fill("2020-01-31")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("status").filter(has_text="0 event(s).").wait_for()
    assert page.problems == []


def test_an_editor_works_through_the_report_queue(client, page, base_url, stream):
    from tests.support.practice import answer, right, small_bank, start

    bank = small_bank(client)
    by_id = {q["id"]: q for q in bank["anatomy"]}
    learner = register(client)
    session = start(client, learner["access"], categories=["anatomy"], question_count=1)
    question_id = session["question_ids"][0]
    assert answer(client, learner["access"], session["id"], question_id, right(by_id[question_id])).status == 200
    stream.poll_once()
    body = {"reason": "wrong_key", "comment": "The key should be C."}
    assert client.post(f"/questions/{question_id}/reports", body, token=learner["access"]).status == 201

    editor = staff(client, Role.EDITOR)
    sign_in(page, base_url, editor["user"]["email"])
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Reports").click()
    row = page.get_by_role("row").filter(has_text="The key should be C.")
    row.wait_for()
    assert "Wrong answer key" in row.inner_text()
    shoot(page, "reports")
    row.get_by_label("Note to the learner").fill("Checked against Bailey & Love: the key is right.")
    row.get_by_role("button", name="Reject the report").click()
    page.get_by_text("Report rejected; the learner is told.").wait_for()
    inbox = client.get("/notifications", token=learner["access"]).json["items"]
    assert "Bailey & Love" in inbox[0]["body"]
    page.get_by_label("Status").and_(page.locator("#rp-status")).select_option("rejected")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("button", name=f"Open question {question_id} in the editor").click()
    page.get_by_role("heading", name="Edit question").wait_for()
    answered = region(page, "How learners answered")
    expect(answered).to_contain_text("1 answer, 100% correct, median time")
    key_text = next(o["text"] for o in by_id[question_id]["options"] if o["is_correct"])
    expect(answered.get_by_role("row").filter(has_text=f"{key_text} (key)")).to_contain_text("100%")
    expect(answered).to_contain_text("Item analysis: fewer than 30 exam answers so far.")
    assert page.problems == []


def test_a_page_changed_meanwhile_is_shown_not_overwritten(client, page, base_url):
    editor = staff(client, Role.EDITOR)
    body = {"title": "Terms", "body": "First text.", "status": "published"}
    assert client.put("/pages/terms", body, token=editor["access"]).status == 201
    sign_in(page, base_url, editor["user"]["email"])
    page.get_by_role("heading", name="Welcome").wait_for()
    page.get_by_role("button", name="Pages").click()
    pages = region(page, "Pages")
    pages.get_by_label("Page", exact=True).select_option("terms")
    expect(pages.get_by_label("Title")).to_have_value("Terms")
    pages.get_by_label("Text (Markdown)").fill("My edit.")
    other = {**body, "body": "Someone else's text."}
    assert client.put("/pages/terms", other, token=editor["access"]).status == 200
    pages.get_by_role("button", name="Save page").click()
    page.get_by_role("alert").filter(has_text="changed meanwhile").wait_for()
    assert client.get("/pages/terms").json["body"] == "Someone else's text."
    assert pages.get_by_label("Text (Markdown)").input_value() == "My edit."
    page.get_by_role("button", name="Load the latest version").click()
    expect(pages.get_by_label("Text (Markdown)")).to_have_value("Someone else's text.")


def test_the_editor_shows_the_remarking_a_corrected_key_caused(client, page, base_url, stream):
    from chalicelib.core import tasks
    from tests.integration.test_remarking import correct_the_key, fixed_template, sit
    from tests.support.practice import answers_by_id, right, small_bank, wrong

    bank = small_bank(client)
    by_id = answers_by_id(bank)
    paper = [q["id"] for q in bank["pathology"][:2]]
    suspect = by_id[paper[0]]
    template = fixed_template(client, paper)
    sit(client, register(client)["access"], template["id"], {q: wrong(by_id[q]) for q in paper})
    sit(client, register(client)["access"], template["id"], {q: right(by_id[q]) for q in paper})
    stream.poll_once()
    editor = staff(client, Role.EDITOR)
    correct_the_key(client, editor["access"], suspect, wrong(suspect)[0])
    stream.poll_once()
    tasks.run_pending()

    open_questions(page, base_url, editor["user"]["email"])
    find(page, "vignette", status="published")
    page.get_by_role("button", name=suspect["stem"][:87], exact=True).click()
    page.get_by_role("heading", name="Edit question").wait_for()
    answered = region(page, "How learners answered")
    expect(answered).to_contain_text("2 answers, 50% correct")  # under the corrected key
    expect(answered).to_contain_text("2 sittings re-marked, 2 scores changed.")
    shoot(page, "question-statistics")
    assert page.problems == []
