"""Domain signals of exam sessions (docs/architecture.md): how higher apps hear that something
happened here without this app importing them. Sent after the transaction commits;
receivers only call their own services (or enqueue their own tasks)."""

from django.dispatch import Signal

# A sitting was scored (submitted by the learner, on a late touch, or by the sweep's per-sitting
# path for adaptive tests). Arguments: ``session_id``, ``user_id``, ``test_id``.
session_scored = Signal()

# The expiry sweep scored a batch of sittings in one transaction. Argument: ``sittings``, a
# list of ``(session_id, user_id, test_id)``. Receivers enqueue one task for the batch.
sittings_scored = Signal()
