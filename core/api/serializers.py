"""Serializer bases shared by every app."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request


# Refuses fields it does not know instead of ignoring them: a client sending ``emial`` or
# ``price`` learns at once that it was not used.
#
# ``patch=True`` (for PATCH) makes every top-level field optional, without a default: a
# field not sent is not in ``validated_data``. Not DRF's ``partial``: that also relaxes the
# nested serializers, so a PATCH could send a list item without its required fields
# (``{"sections": [{"questions": [{}]}]}``) and the service would meet a half-built row.
# Nested lists replace what they stand for, so they are checked whole.
#
# No docstring on purpose: drf-spectacular describes every request component with the
# nearest docstring of its class, and these words are for this codebase, not for clients.
class StrictInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    def __init__(self, *args: Any, patch: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if patch:
            for field in self.fields.values():
                field.required = False
                field.default = serializers.empty

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class NoneAsNullChoiceField(serializers.ChoiceField):
    """A choice whose "none" (any difficulty; not closed yet) the database stores as ``""``:
    ``null`` in JSON both ways, so the schema has one enum and ``null``, never an enum of
    the empty string. ``""`` sent by a client still reads as none."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_null"] = True
        kwargs.pop("allow_blank", None)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        value = super().run_validation(data)
        return "" if value is None else value

    def to_internal_value(self, data: Any) -> Any:
        return "" if data == "" else super().to_internal_value(data)

    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)


def validated_input(
    serializer_class: type[serializers.Serializer[Any]], request: Request, **kwargs: Any
) -> dict[str, Any]:
    """The request body validated by ``serializer_class`` (a 400 in the one error shape
    when it does not fit); ``kwargs`` go to the serializer (``partial``, ``patch``)."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    data: dict[str, Any] = serializer.validated_data
    return data
