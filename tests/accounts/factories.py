import factory

from accounts.models import User

DEFAULT_PASSWORD = "a-long-test-passphrase"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"learner{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    is_staff = True


def logged_in_device(user, *, user_agent: str = "pytest", ip: str = "127.0.0.1"):
    """A device session made the way the API makes one (through the service)."""
    from accounts.services import device_login
    from core.api.client import ClientInfo

    return device_login(
        user=user, method="password", client=ClientInfo(ip_address=ip, user_agent=user_agent)
    )
