"""Domain signals of exam sessions (docs/architecture.md): how higher apps hear that something
happened here without this app importing them. Sent after the transaction commits;
receivers only call their own services (or enqueue their own tasks)."""

from django.dispatch import Signal

# A sitting was scored (submitted by the learner or on time-up). Arguments: ``session_id``,
# ``user_id``, ``test_id``.
session_scored = Signal()
