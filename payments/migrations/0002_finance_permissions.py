# The Finance staff group (testengine 0002) gets the payments back office: orders, payments,
# refunds (and issuing them), webhook events (and reprocessing them), coupons, invoices.
# Data only; app code is never imported here.

from django.contrib.auth.management import create_permissions
from django.db import migrations

FINANCE = "Finance"
CODENAMES = (
    "view_order",
    "view_payment",
    "view_refund",
    "add_refund",  # the admin's refund action
    "view_webhookevent",
    "change_webhookevent",  # the admin's "reprocess" action
    "add_coupon",
    "change_coupon",
    "delete_coupon",
    "view_coupon",
    "view_couponredemption",
    "view_invoice",
)


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    # Permissions are normally created by post_migrate, after every migration has run.
    app_config = apps.get_app_config("payments")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    finance, _ = Group.objects.using(using).get_or_create(name=FINANCE)
    found = list(
        Permission.objects.using(using).filter(
            content_type__app_label="payments", codename__in=CODENAMES
        )
    )
    missing = set(CODENAMES) - {permission.codename for permission in found}
    if missing:
        raise RuntimeError(f"Permissions missing for payments: {sorted(missing)}")
    finance.permissions.add(*found)


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    finance = Group.objects.using(using).filter(name=FINANCE).first()
    if finance is not None:
        finance.permissions.remove(
            *Permission.objects.using(using).filter(
                content_type__app_label="payments", codename__in=CODENAMES
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("testengine", "0002_staff_groups"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
    ]
