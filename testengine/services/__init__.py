"""Every write of the test engine. Split by entity; import from here."""

from testengine.services.item_parameters import (  # noqa: F401
    CalibrationStored,
    ItemFit,
    question_calibration_store,
)
from testengine.services.papers import (  # noqa: F401
    PrepareReport,
    papers_discard_stale,
    papers_prepare,
)
from testengine.services.questions import (  # noqa: F401
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
from testengine.services.tests import (  # noqa: F401
    CheckReport,
    RuleAvailability,
    test_check,
    test_create,
    test_publish,
    test_unpublish,
    test_update,
)
from testengine.services.topics import topic_create, topic_delete, topic_update  # noqa: F401
