"""Every write of the test engine. Split by entity; import from here."""

from testengine.services.item_parameters import (
    CalibrationStored,
    ItemFit,
    question_calibration_store,
)
from testengine.services.papers import (
    PrepareReport,
    papers_discard_stale,
    papers_prepare,
)
from testengine.services.questions import (
    ChoiceData,
    QuestionData,
    default_irt,
    parse_decimal,
    question_create,
    question_data_from,
    question_set_free_practice,
    question_set_status,
    question_statistics_store,
    question_update,
    question_validate,
)
from testengine.services.tests import (
    CheckReport,
    RuleAvailability,
    test_check,
    test_create,
    test_publish,
    test_unpublish,
    test_update,
)
from testengine.services.topics import topic_create, topic_delete, topic_update

__all__ = [
    "CalibrationStored",
    "CheckReport",
    "ChoiceData",
    "ItemFit",
    "PrepareReport",
    "QuestionData",
    "RuleAvailability",
    "default_irt",
    "papers_discard_stale",
    "papers_prepare",
    "parse_decimal",
    "question_calibration_store",
    "question_create",
    "question_data_from",
    "question_set_free_practice",
    "question_set_status",
    "question_statistics_store",
    "question_update",
    "question_validate",
    "test_check",
    "test_create",
    "test_publish",
    "test_unpublish",
    "test_update",
    "topic_create",
    "topic_delete",
    "topic_update",
]
