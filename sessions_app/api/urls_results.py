"""Placeholder until the results API lands."""

urlpatterns: list = []
