"""Responses leave half of each page free (fillfactor 50), so the expiry sweep's marking of
every response of a batch, and autosaves rewriting an answer, are HOT updates: the new row
version stays on its page and no index is touched (docs/benchmarks.md, "The clock's end").
Existing pages keep their layout until rewritten (``VACUUM FULL`` or ``pg_repack``)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0006_marking_key"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE sessions_app_sessionresponse SET (fillfactor = 50)",
            reverse_sql="ALTER TABLE sessions_app_sessionresponse RESET (fillfactor)",
        ),
    ]
