"""Placeholder until the staff catalogue API lands."""

urlpatterns: list = []
