"""Placeholder: replaced by the import/export views."""

urlpatterns: list = []
