"""Cold-start IRT priors for questions never calibrated.

Questions created through the services already got priors, but a difficulty or choice
change later left them stale, and rows written by other means carry the model defaults.
This sets a = 1, b from the difficulty label (easy −1, medium 0, hard +1) and c = 1 / number
of choices for single-answer choice questions (0 otherwise) on every never-calibrated
question whose parameters still look like *a* prior (a = 1, b ∈ {−1, 0, 1}, c = 0 or
1/k): parameters that staff typed themselves are left alone.

The rule is written out here rather than imported (migrations never import app code).
Reversing changes nothing: the earlier values were priors too.
"""

from django.db import migrations
from django.db.models import Count

B_PRIOR = {"easy": -1.0, "medium": 0.0, "hard": 1.0}
GUESSING_TYPES = ("single", "true_false")
LOOKS_LIKE_A_PRIOR_C = {0.0} | {round(1 / k, 4) for k in range(2, 11)}


def set_priors(apps, schema_editor):
    Question = apps.get_model("testengine", "Question")
    changed = []
    rows = (
        Question.objects.filter(irt_source="prior", irt_a=1.0, irt_b__in=list(B_PRIOR.values()))
        .annotate(choice_count=Count("choices"))
        .only("id", "type", "difficulty", "irt_a", "irt_b", "irt_c")
        .order_by("pk")
    )
    for question in rows.iterator(chunk_size=2000):
        if question.irt_c not in LOOKS_LIKE_A_PRIOR_C:
            continue
        guess = 0.0
        if question.type in GUESSING_TYPES and question.choice_count:
            guess = round(1 / question.choice_count, 4)
        prior = (1.0, B_PRIOR.get(question.difficulty, 0.0), guess)
        if (question.irt_a, question.irt_b, question.irt_c) != prior:
            question.irt_a, question.irt_b, question.irt_c = prior
            changed.append(question)
    Question.objects.bulk_update(changed, ["irt_a", "irt_b", "irt_c"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("testengine", "0005_question_irt_calibration"),
    ]

    operations = [
        migrations.RunPython(set_priors, migrations.RunPython.noop),
    ]
