"""Import and export in the admin, through ``ImportExportMixin`` on a plain ModelAdmin
(mounted at /ie-admin/ by ``tests.testengine.urls_for_importexport``)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from testengine.importexport import COLUMNS, questions_export
from testengine.models import Question
from tests.accounts.factories import StaffFactory
from tests.testengine.factories import TopicFactory, make_question

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.testengine.urls_for_importexport")]

CHANGELIST = "/ie-admin/testengine/question/"
IMPORT = CHANGELIST + "import/"
EXPORT = CHANGELIST + "export/"


@pytest.fixture
def topic():
    return TopicFactory(slug="algebra")


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def _staff_client(client, *codenames):
    user = StaffFactory()
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="testengine", codename__in=codenames)
    )
    client.force_login(user)
    return client


def _file(*rows: dict, name: str = "bank.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


GOOD = {"topic": "algebra", "type": "single", "body": "2 + 2?", "choices": "3|4", "correct": "2"}
TEXT = {"topic": "algebra", "type": "text", "body": "Name it", "accepted_answers": "x"}


# --- import --------------------------------------------------------------------------------


def test_the_import_page_shows_the_form(admin_client):
    response = admin_client.get(IMPORT)

    assert response.status_code == 200
    assert response.context["title"] == "Import questions"
    assert list(response.context["form"].fields) == ["file", "format", "dry_run"]
    assert b'enctype="multipart/form-data"' in response.content


def test_a_clean_file_is_imported_and_the_changelist_says_how_many(admin_client, topic):
    response = admin_client.post(IMPORT, {"file": _file(GOOD, TEXT)}, follow=True)

    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert [str(m) for m in response.context["messages"]] == ["Imported 2 questions."]
    assert sorted(Question.objects.values_list("body_md", flat=True)) == ["2 + 2?", "Name it"]


def test_a_dry_run_reports_on_the_page_and_saves_nothing(admin_client, topic):
    response = admin_client.post(IMPORT, {"file": _file(GOOD, TEXT), "dry_run": "on"})

    assert response.status_code == 200
    assert response.context["report"].created == 2
    assert b"Dry run: the file is clean; 2 questions would be imported." in response.content
    assert Question.objects.count() == 0


def test_a_bad_file_lists_every_bad_row_on_the_page_and_saves_nothing(admin_client, topic):
    make_question(topic=topic)
    bad = [GOOD, {**GOOD, "topic": "nope"}, TEXT, {**TEXT, "marks": "many"}]

    response = admin_client.post(IMPORT, {"file": _file(*bad)})

    assert response.status_code == 200
    assert response.context["rows"] == [
        {"row": 3, "field": "topic", "message": "Unknown topic 'nope'."},
        {"row": 5, "field": "marks", "message": "Enter a number."},
    ]
    content = response.content.decode()
    assert "The file has 2 errors in 2 rows; nothing was imported." in content
    assert "<td>3</td><td>topic</td><td>Unknown topic &#x27;nope&#x27;.</td>" in content
    assert "<td>5</td><td>marks</td><td>Enter a number.</td>" in content
    assert Question.objects.count() == 1


def test_a_file_level_error_shows_as_the_file(admin_client, topic):
    response = admin_client.post(
        IMPORT, {"file": SimpleUploadedFile("bank.json", b"[1,", content_type="text/plain")}
    )

    assert response.status_code == 200
    assert [row["row"] for row in response.context["rows"]] == [0]
    assert "<td>file</td><td>file</td>" in response.content.decode()


def test_json_files_are_imported_too(admin_client, topic):
    items = [{"topic": "algebra", "type": "text", "body": "Q", "accepted_answers": ["a"]}]
    upload = SimpleUploadedFile("bank.json", json.dumps(items).encode())

    response = admin_client.post(IMPORT, {"file": upload})

    assert response.status_code == 302
    assert Question.objects.get().accepted_answers == ["a"]


def test_a_file_whose_format_cannot_be_told_asks_for_it(admin_client, topic):
    response = admin_client.post(IMPORT, {"file": _file(GOOD, name="bank.txt")})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "format": ["Choose the format: the file name does not tell."]
    }
    assert Question.objects.count() == 0


def test_importing_needs_the_add_permission(client, topic):
    staff = _staff_client(client, "view_question", "change_question")

    page = staff.get(IMPORT)
    posted = staff.post(IMPORT, {"file": _file(GOOD)})

    assert (page.status_code, posted.status_code) == (403, 403)
    assert Question.objects.count() == 0


def test_a_staff_member_with_the_add_permission_can_import(client, topic):
    staff = _staff_client(client, "add_question")

    response = staff.post(IMPORT, {"file": _file(GOOD)})

    assert response.status_code == 302
    assert Question.objects.count() == 1


# --- changelist buttons and export ---------------------------------------------------------


def test_the_changelist_links_import_and_exports_of_the_current_filters(admin_client, topic):
    response = admin_client.get(CHANGELIST, {"status__exact": "draft", "q": "sum"})

    content = response.content.decode()
    assert response.status_code == 200
    assert f'<a href="{IMPORT}" class="importlink">Import</a>' in content
    assert (
        f'<a href="{EXPORT}?status__exact=draft&amp;q=sum&amp;_format=csv" '
        'class="exportlink">Export CSV</a>'
    ) in content
    assert f"{EXPORT}?status__exact=draft&amp;q=sum&amp;_format=json" in content


def test_a_view_only_staff_member_sees_export_but_not_import(client, topic):
    response = _staff_client(client, "view_question").get(CHANGELIST)

    content = response.content.decode()
    assert response.status_code == 200
    assert "Export CSV" in content
    assert "importlink" not in content


def test_export_downloads_what_the_changelist_shows(admin_client, topic):
    make_question(topic=topic, body="Published one")
    make_question(topic=topic, body="Draft one", status="draft")
    make_question(topic=topic, body="Draft two", status="draft", difficulty="hard")

    response = admin_client.get(EXPORT, {"status__exact": "draft", "_format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="questions-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["body"] for row in rows] == ["Draft one", "Draft two"]


def test_export_as_json_honours_search_and_filters_together(admin_client, topic):
    make_question(topic=topic, body="Sum of angles", status="draft")
    make_question(topic=topic, body="Sum of squares", status="published")
    make_question(topic=topic, body="Product", status="draft")

    response = admin_client.get(EXPORT, {"status__exact": "draft", "q": "sum", "_format": "json"})

    assert response["Content-Type"] == "application/json"
    assert [item["body"] for item in json.loads(response.content)] == ["Sum of angles"]


def test_export_without_filters_is_the_whole_bank(admin_client, topic):
    for _ in range(3):
        make_question(topic=topic)

    response = admin_client.get(EXPORT)

    assert response.content.decode() == questions_export(queryset=Question.objects.all(), fmt="csv")


def test_a_bad_filter_sends_back_to_the_changelist_with_its_error_flag(admin_client, topic):
    response = admin_client.get(EXPORT, {"no_such_field": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?e=1"


def test_exporting_needs_the_view_permission(client, topic):
    make_question(topic=topic)

    response = _staff_client(client, "add_question").get(EXPORT)

    assert response.status_code == 403


def test_the_export_selected_action_downloads_only_the_selected(admin_client, topic):
    first = make_question(topic=topic, body="First")
    make_question(topic=topic, body="Second")
    third = make_question(topic=topic, body="Third")

    response = admin_client.post(
        CHANGELIST,
        {"action": "export_selected_csv", "_selected_action": [first.pk, third.pk]},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["body"] for row in rows] == ["First", "Third"]


def test_the_action_is_offered_next_to_the_admins_own(admin_client, topic):
    response = admin_client.get(CHANGELIST)

    choices = dict(response.context["action_form"].fields["action"].choices)
    assert choices["export_selected_csv"] == "Export selected as CSV"
    assert "delete_selected" in choices
