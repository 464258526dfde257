"""Placeholder until the sitting API lands."""

urlpatterns: list = []
