"""Staff-only access with Django model permissions (view permission needed to read)."""

from rest_framework import permissions


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff users holding the model permission for the method: GET needs ``view_*``,
    POST ``add_*``, PUT/PATCH ``change_*``, DELETE ``delete_*``. Learners get 403."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not user.is_staff:
            return False
        return super().has_permission(request, view)
