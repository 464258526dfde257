"""Demo accounts. Their passwords are public: they exist for ``make run`` only."""

from typing import Any, TextIO

from accounts.models import User

DEMO_STAFF = {"email": "admin@examforge.local", "password": "examforge-admin-demo"}
DEMO_LEARNER = {"email": "learner@examforge.local", "password": "learner-demo-pass"}


def _ensure(email: str, password: str, **fields: Any) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, **fields)
    else:
        # Reset to the documented state, so the printed credentials always work.
        for name, value in fields.items():
            setattr(user, name, value)
        user.is_active = True
        user.set_password(password)
        user.save()
    return user


def seed(out: TextIO) -> None:
    _ensure(
        DEMO_STAFF["email"],
        DEMO_STAFF["password"],
        full_name="Demo Admin",
        is_staff=True,
        is_superuser=True,
    )
    _ensure(
        DEMO_LEARNER["email"],
        DEMO_LEARNER["password"],
        full_name="Demo Learner",
        phone="+919800000001",
    )
    out.write(
        "demo accounts:\n"
        f"  staff   {DEMO_STAFF['email']} / {DEMO_STAFF['password']}  (admin: /admin/)\n"
        f"  learner {DEMO_LEARNER['email']} / {DEMO_LEARNER['password']}\n"
    )
