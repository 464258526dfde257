"""The back office for users: finding them, creating them, logging them out everywhere."""

import pytest

from accounts.models import Device, User
from tests.accounts.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory

CHANGELIST = "/admin/accounts/user/"
ADD = "/admin/accounts/user/add/"
LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
# What the add page posts besides the user's fields: the empty devices inline.
DEVICES_INLINE = {"devices-TOTAL_FORMS": "0", "devices-INITIAL_FORMS": "0"}


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True, email="boss@examforge.local", full_name="Boss Admin")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def people(db):
    return {
        "asha": UserFactory(
            email="asha.verma@example.com", full_name="Asha Verma", phone="+919812345678"
        ),
        "ravi": UserFactory(
            email="ravi@example.com", full_name="Ravi Kumar", phone="+919898989898"
        ),
        "meera": UserFactory(email="meera@example.com", full_name="Meera Iyer", is_active=False),
        "staff": StaffFactory(email="staff@examforge.local", full_name="Support Staff"),
    }


def _listed(response) -> set[int]:
    assert response.status_code == 200
    return {user.pk for user in response.context["cl"].result_list}


def _login(api_client, user) -> dict:
    response = api_client.post(
        LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


# --- changelist ----------------------------------------------------------------------------


def test_the_changelist_lists_every_user(admin_client, superuser, people):
    response = admin_client.get(CHANGELIST)

    assert _listed(response) == {superuser.pk, *(user.pk for user in people.values())}
    assert b"asha.verma@example.com" in response.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("asha.verma@example", "asha"),
        ("RAVI@EXAMPLE.COM", "ravi"),
        ("9812345678", "asha"),
        ("+919898989898", "ravi"),
        ("iyer", "meera"),
        ("Ravi Kumar", "ravi"),
    ],
)
def test_search_by_email_phone_and_name_finds_only_that_user(admin_client, people, query, expected):
    response = admin_client.get(CHANGELIST, {"q": query})

    assert _listed(response) == {people[expected].pk}


def test_a_search_matching_nobody_lists_nobody(admin_client, people):
    response = admin_client.get(CHANGELIST, {"q": "nobody-by-this-name"})

    assert _listed(response) == set()


def test_filter_by_staff(admin_client, superuser, people):
    staff = admin_client.get(CHANGELIST, {"is_staff__exact": "1"})
    learners = admin_client.get(CHANGELIST, {"is_staff__exact": "0"})

    assert _listed(staff) == {superuser.pk, people["staff"].pk}
    assert _listed(learners) == {people["asha"].pk, people["ravi"].pk, people["meera"].pk}


def test_filter_by_active(admin_client, people):
    inactive = admin_client.get(CHANGELIST, {"is_active__exact": "0"})

    assert _listed(inactive) == {people["meera"].pk}


def test_the_changelist_query_count_does_not_grow_with_users(
    admin_client, django_assert_max_num_queries
):
    UserFactory.create_batch(30)

    # session, the admin user, two counts and the page itself
    with django_assert_max_num_queries(5):
        response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 31


# --- change and add ------------------------------------------------------------------------


def test_the_change_page_never_shows_the_password_hash(admin_client, api_client, people):
    asha = people["asha"]
    _login(api_client, asha)
    device = Device.objects.get(user=asha)
    _algorithm, salt, digest = asha.password.split("$")

    response = admin_client.get(f"/admin/accounts/user/{asha.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "asha.verma@example.com" in page
    assert asha.password not in page
    assert digest not in page
    assert salt not in page
    assert device.current_jti not in page


def test_the_add_form_creates_a_user_with_a_lowercased_email(admin_client):
    response = admin_client.post(
        ADD,
        {
            "email": "  New.Person@Example.COM ",
            "full_name": "New Person",
            "phone": "",
            "password1": "a-long-admin-chosen-pass",
            "password2": "a-long-admin-chosen-pass",
            "_save": "Save",
            **DEVICES_INLINE,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(full_name="New Person")
    assert user.email == "new.person@example.com"
    assert user.phone is None
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert user.check_password("a-long-admin-chosen-pass") is True


def test_the_add_form_refuses_an_email_taken_in_another_case(admin_client, people):
    users_before = User.objects.count()

    response = admin_client.post(
        ADD,
        {
            "email": "Asha.Verma@EXAMPLE.com",
            "full_name": "Impostor",
            "phone": "",
            "password1": "a-long-admin-chosen-pass",
            "password2": "a-long-admin-chosen-pass",
            "_save": "Save",
            **DEVICES_INLINE,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == [
        "User with this Email address already exists."
    ]
    assert User.objects.count() == users_before
    assert not User.objects.filter(full_name="Impostor").exists()


# --- logging users out everywhere ----------------------------------------------------------


def test_the_logout_everywhere_action_revokes_every_device_of_the_selected_users(
    admin_client, api_client, people
):
    # given asha is logged in on two devices and ravi on one
    asha, ravi = people["asha"], people["ravi"]
    asha_tokens = [_login(api_client, asha), _login(api_client, asha)]
    ravi_tokens = _login(api_client, ravi)

    # when staff logs asha out of every device
    response = admin_client.post(
        CHANGELIST,
        {"action": "logout_everywhere", "_selected_action": [str(asha.pk)]},
        follow=True,
    )

    # then both of asha's devices are revoked, ravi's is not
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Revoked 2 device session(s)."]
    assert Device.objects.filter(user=asha, revoked_at__isnull=True).count() == 0
    assert Device.objects.filter(user=asha, revoked_at__isnull=False).count() == 2
    assert Device.objects.filter(user=ravi, revoked_at__isnull=True).count() == 1
    # and asha's refresh tokens are refused while ravi's still works
    for tokens in asha_tokens:
        refused = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
        assert refused.status_code == 401
        assert refused.json() == {
            "code": "token_not_valid",
            "detail": "The token is invalid, expired or revoked. Log in again.",
        }
    accepted = api_client.post(REFRESH, {"refresh": ravi_tokens["refresh"]}, format="json")
    assert accepted.status_code == 200


def test_the_logout_everywhere_action_on_a_user_without_devices_revokes_nothing(
    admin_client, people
):
    response = admin_client.post(
        CHANGELIST,
        {"action": "logout_everywhere", "_selected_action": [str(people["ravi"].pk)]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == ["Revoked 0 device session(s)."]
    assert Device.objects.count() == 0


def test_a_staff_member_without_permissions_cannot_see_users(client, people):
    client.force_login(people["staff"])

    response = client.get(CHANGELIST)

    assert response.status_code == 403


def test_the_add_form_stores_a_locally_written_phone_in_e164(admin_client):
    response = admin_client.post(
        ADD,
        {
            "email": "Local.Phone@Example.com",
            "full_name": "Local Phone",
            "phone": "98123 45678",
            "password1": "a-long-admin-chosen-pass",
            "password2": "a-long-admin-chosen-pass",
            "_save": "Save",
            **DEVICES_INLINE,
        },
    )

    assert response.status_code == 302
    created = User.objects.get(email="local.phone@example.com")
    assert created.phone == "+919812345678"


def test_the_add_form_refuses_an_invalid_phone_with_a_field_error(admin_client):
    users_before = User.objects.count()

    response = admin_client.post(
        ADD,
        {
            "email": "bad.phone@example.com",
            "full_name": "Bad Phone",
            "phone": "12",
            "password1": "a-long-admin-chosen-pass",
            "password2": "a-long-admin-chosen-pass",
            "_save": "Save",
            **DEVICES_INLINE,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"] == ["Enter a valid phone number."]
    assert User.objects.count() == users_before
