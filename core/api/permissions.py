"""Staff-only access with Django model permissions (view permission needed to read),
shared by every staff API (the question bank, the catalogue)."""

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff users holding the model permission for the method: GET needs ``view_*``,
    POST ``add_*``, PUT/PATCH ``change_*``, DELETE ``delete_*``. Learners get 403."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):  # type: ignore[truthy-bool]
            return False
        if not user.is_staff:
            return False
        # Verbs that change an object (publish, retire, …) need change_*, not the add_*
        # that DRF would infer from POST.
        verb = getattr(view, "change_actions", ())
        if getattr(view, "action", None) in verb:
            model = self._queryset(view).model
            return user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}")
        return super().has_permission(request, view)
