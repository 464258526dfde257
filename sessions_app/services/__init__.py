"""Every write of the exam-session app. Split by area; import from here.

- ``sittings``: starting, saving, advancing a section, submitting and closing one sitting,
  and what a withdrawn or restored access does to a learner's sittings;
- ``finalize``: the set-based deadline sweep that closes expired sittings in batches;
- ``item_statistics``: classical item statistics from scored sittings;
- ``calibration``: gathering the response matrix and running testengine's IRT fit.
"""

# The grace after a deadline, for callers that compare a session's deadline themselves.
from sessions_app.policy import grace
from sessions_app.services.calibration import (
    LOCK_NAME,
    CalibrationReport,
    calibrate_items,
)
from sessions_app.services.finalize import (
    SweepResult,
    finalize_expired_sessions,
    sweep_expired,
)
from sessions_app.services.item_statistics import update_item_statistics
from sessions_app.services.sittings import (
    SaveResult,
    practice_start,
    response_save,
    responses_save,
    section_advance,
    session_finalize_if_expired,
    session_start,
    session_submit,
    sittings_access_restored,
    sittings_access_withdrawn,
)

__all__ = [
    "LOCK_NAME",
    "CalibrationReport",
    "SaveResult",
    "SweepResult",
    "calibrate_items",
    "finalize_expired_sessions",
    "grace",
    "practice_start",
    "response_save",
    "responses_save",
    "section_advance",
    "session_finalize_if_expired",
    "session_start",
    "session_submit",
    "sittings_access_restored",
    "sittings_access_withdrawn",
    "sweep_expired",
    "update_item_statistics",
]
