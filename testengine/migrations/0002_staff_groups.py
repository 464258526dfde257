# Staff groups for the back office. Data only; app code is never imported here.

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_EDITORS = "Content editors"
FINANCE = "Finance"

EDITED_MODELS = (
    "topic",
    "question",
    "choice",
    "test",
    "section",
    "sectionrule",
    "sectionquestion",
)
ALL_ACTIONS = ("add", "change", "delete", "view")


def _ensure_permissions(apps, schema_editor):
    # Permissions are normally created by post_migrate, i.e. after every migration of a
    # fresh database has run; create the ones these groups need now.
    for label in ("accounts", "testengine"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=schema_editor.connection.alias, apps=apps)
        app_config.models_module = None


def _permissions(apps, using, app_label, codenames):
    Permission = apps.get_model("auth", "Permission")
    found = list(
        Permission.objects.using(using).filter(
            content_type__app_label=app_label, codename__in=codenames
        )
    )
    missing = set(codenames) - {permission.codename for permission in found}
    if missing:
        raise RuntimeError(f"Permissions missing for {app_label}: {sorted(missing)}")
    return found


def create_groups(apps, schema_editor):
    _ensure_permissions(apps, schema_editor)
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias

    editors, _ = Group.objects.using(using).get_or_create(name=CONTENT_EDITORS)
    codenames = [f"{action}_{model}" for model in EDITED_MODELS for action in ALL_ACTIONS]
    codenames.append("view_questionstatistics")
    editors.permissions.add(*_permissions(apps, using, "testengine", codenames))

    finance, _ = Group.objects.using(using).get_or_create(name=FINANCE)
    # Orders, payments and refunds permissions are added by the payments app's own
    # migration once those models exist.
    finance.permissions.add(*_permissions(apps, using, "accounts", ["view_user"]))


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=[CONTENT_EDITORS, FINANCE]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0001_initial"),
        ("testengine", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_groups, delete_groups),
    ]
