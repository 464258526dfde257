"""Placeholder until the import/export admin lands."""


class ImportExportMixin:
    """Adds nothing yet."""
