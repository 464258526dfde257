"""Back office for accounts: users, their device sessions and OTP challenges."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.models import Device, OTPChallenge, User, normalize_email


class _PhoneCleaningMixin:
    """Staff type numbers the way people write them; store E.164 like the API does."""

    cleaned_data: dict[str, Any]  # the form's, which this mixes into

    def clean_phone(self) -> str | None:
        raw = (self.cleaned_data.get("phone") or "").strip()
        if not raw:
            return None
        try:
            return services.normalize_phone(raw)
        except services.FieldError as exc:
            raise forms.ValidationError(exc.fields["phone"]) from exc  # type: ignore[index]

    def clean_email(self) -> str | None:
        email = self.cleaned_data.get("email")
        return normalize_email(email) if email else None


class UserCreationForm(_PhoneCleaningMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "phone")


class UserChangeFormForEmail(_PhoneCleaningMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    can_delete = False
    fields = (
        "user_agent",
        "ip_address",
        "login_method",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = fields
    ordering = ("-last_used_at",)
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeFormForEmail
    add_form = UserCreationForm
    ordering = ("-date_joined",)
    list_display = (
        "email",
        "phone",
        "full_name",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "date_joined")
    search_fields = ("email", "phone", "full_name")
    readonly_fields = (
        "public_id",
        "date_joined",
        "last_login",
        "email_verified_at",
        "phone_verified_at",
    )
    fieldsets = (
        (None, {"fields": ("public_id", "email", "password")}),
        ("Profile", {"fields": ("full_name", "phone", "email_verified_at", "phone_verified_at")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "phone", "password1", "password2"),
            },
        ),
    )
    inlines = [DeviceInline]
    actions = ["logout_everywhere"]

    @admin.action(description="Log selected users out of every device")
    def logout_everywhere(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        total = sum(services.auth_logout_all(user=user) for user in queryset)
        self.message_user(request, f"Revoked {total} device session(s).", messages.SUCCESS)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "login_method",
        "ip_address",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("login_method", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__email", "user__phone", "ip_address")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    readonly_fields = (
        "id",
        "user",
        "user_agent",
        "ip_address",
        "login_method",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    exclude = ("current_jti",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Log out the selected devices")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        for device in queryset.select_related("user"):
            services.device_revoke(user=device.user, device_id=device.pk)
        self.message_user(request, f"Revoked {queryset.count()} device(s).", messages.SUCCESS)


@admin.register(OTPChallenge)
class OTPChallengeAdmin(admin.ModelAdmin):
    """Read-only audit of code requests. Codes are never stored, so none can be shown."""

    list_display = (
        "destination",
        "channel",
        "created_at",
        "expires_at",
        "attempts",
        "closed_reason",
    )
    list_filter = ("channel", "closed_reason")
    search_fields = ("destination",)
    exclude = ("code_hash",)
    readonly_fields = (
        "destination",
        "channel",
        "created_at",
        "expires_at",
        "attempts",
        "consumed_at",
        "closed_reason",
        "ip_address",
        "user",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OTPChallenge | None = None) -> bool:
        return False
