"""``manage.py seed_demo``: idempotent, and the printed credentials work.

Most tests start from ``seeded_demo``: the database as the first ``seed_demo`` on a freshly
migrated one left it (seeded once per test worker), and what that seed printed."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_LEARNER, DEMO_STAFF
from accounts.models import User

PRINTED = re.compile(r"^\s+(staff|learner)\s+(\S+@\S+) / (\S+)", re.MULTILINE)


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _printed_credentials(output: str) -> dict[str, tuple[str, str]]:
    return {role: (email, password) for role, email, password in PRINTED.findall(output)}


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


@pytest.mark.usefixtures("debug")
def test_seed_demo_creates_the_demo_accounts_and_prints_their_credentials(seeded_demo):
    output = seeded_demo

    assert _printed_credentials(output) == {
        "staff": (DEMO_STAFF["email"], DEMO_STAFF["password"]),
        "learner": (DEMO_LEARNER["email"], DEMO_LEARNER["password"]),
    }
    assert "demo data: accounts ready" in output
    staff = User.objects.get(email=DEMO_STAFF["email"])
    learner = User.objects.get(email=DEMO_LEARNER["email"])
    assert (staff.is_staff, staff.is_superuser, staff.is_active) == (True, True, True)
    assert (learner.is_staff, learner.is_superuser, learner.is_active) == (False, False, True)
    assert learner.phone == "+919800000001"


@pytest.mark.usefixtures("debug", "seeded_demo")
def test_seed_demo_twice_creates_nothing_more():
    users_after_first = sorted(User.objects.values_list("pk", "email"))

    _seed()

    assert sorted(User.objects.values_list("pk", "email")) == users_after_first
    # the two demo accounts, plus the four learners whose sittings fill the leaderboard
    assert len(users_after_first) == 6


@pytest.mark.usefixtures("debug", "seeded_demo")
def test_seed_demo_resets_a_demo_account_someone_changed():
    # given the learner was disabled and given another password since the last seed
    learner = User.objects.get(email=DEMO_LEARNER["email"])
    learner.is_active = False
    learner.full_name = "Renamed"
    learner.set_password("someone-elses-password")
    learner.save()

    # when the demo is seeded again
    _seed()

    # then the printed credentials work again
    learner.refresh_from_db()
    assert learner.is_active is True
    assert learner.full_name == "Demo Learner"
    assert learner.check_password(DEMO_LEARNER["password"]) is True


@pytest.mark.usefixtures("debug")
def test_the_demo_staff_account_can_log_into_the_admin(client, seeded_demo):
    email, password = _printed_credentials(seeded_demo)["staff"]

    response = client.post("/admin/login/?next=/admin/", {"username": email, "password": password})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    index = client.get("/admin/")
    assert index.status_code == 200
    assert index.context["user"].email == DEMO_STAFF["email"]


@pytest.mark.usefixtures("debug")
def test_the_demo_learner_can_log_in_through_the_api(api_client, seeded_demo):
    email, password = _printed_credentials(seeded_demo)["learner"]

    response = api_client.post(
        "/api/v1/auth/token/", {"email": email, "password": password}, format="json"
    )

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(
        CommandError,
        match=r"^seed_demo creates accounts with public passwords; DEBUG is off\.$",
    ):
        _seed()

    assert User.objects.count() == 0


@pytest.mark.django_db
def test_seed_demo_runs_with_debug_off_when_explicitly_allowed(settings):
    settings.DEBUG = False

    _seed("--allow-production")

    emails = set(User.objects.values_list("email", flat=True))
    assert {DEMO_STAFF["email"], DEMO_LEARNER["email"]} <= emails
