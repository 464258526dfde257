"""ExamSession.layout: the paper's skeleton that autosave reads instead of the whole paper.
Existing sessions are filled in from their frozen papers (the layout logic is copied here
as it is today, so later changes to testengine.paper never change this migration)."""

from django.db import migrations, models


def _layout(paper):
    return {
        "sections": [
            {
                "id": section["id"],
                "title": section["title"],
                "duration_seconds": section["duration_seconds"],
                "questions": [
                    {
                        "id": question["id"],
                        "type": question["type"],
                        "choices": [choice["id"] for choice in question["choices"]],
                    }
                    for question in section["questions"]
                ],
            }
            for section in paper["sections"]
        ]
    }


def fill_layouts(apps, schema_editor):
    ExamSession = apps.get_model("sessions_app", "ExamSession")
    pending = ExamSession.objects.filter(layout={}).only("id", "paper").order_by("pk")
    batch = []
    for session in pending.iterator(chunk_size=200):
        session.layout = _layout(session.paper)
        batch.append(session)
        if len(batch) == 200:
            ExamSession.objects.bulk_update(batch, ["layout"])
            batch = []
    ExamSession.objects.bulk_update(batch, ["layout"])


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0002_section_clock"),
    ]

    operations = [
        migrations.AddField(
            model_name="examsession",
            name="layout",
            field=models.JSONField(
                default=dict,
                help_text="The paper's skeleton that checks a save: sections and, per "
                "question, its type and choice ids (testengine.paper.answer_layout). "
                "Autosave reads this, never the whole paper.",
            ),
        ),
        # Reversing drops the column; nothing to undo in the data.
        migrations.RunPython(fill_layouts, migrations.RunPython.noop, elidable=True),
    ]
