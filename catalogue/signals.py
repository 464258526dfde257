"""Domain signals of the catalogue (docs/architecture.md), sent after the transaction commits;
receivers in higher apps only call their own services (or enqueue their own tasks)."""

from django.dispatch import Signal

# An enrollment was created, extended or moved to another plan. Arguments: ``enrollment_id``,
# ``user_id``, ``product_id``.
enrollment_changed = Signal()

# A learner's access through an enrollment was withdrawn (a full refund or a staff revoke;
# never a plan simply running out). Arguments: ``enrollment_id``, ``user_id``, ``product_id``.
enrollment_ended = Signal()
