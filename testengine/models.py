"""What is asked and how it is marked: the question bank, tests and their blueprints.

Nothing here knows about learners' sittings: a generated paper is a frozen snapshot that
the exam-session app stores, and scoring works on that snapshot (see ``paper.py`` and
``scoring.py``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.models import TimeStampedModel


class Topic(TimeStampedModel):
    """A node of the subject → chapter → topic tree."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    order = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="testengine_topic_unique_name_per_parent",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="testengine_topic_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Question(TimeStampedModel):
    class Type(models.TextChoices):
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple choice"
        TRUE_FALSE = "true_false", "True / false"
        NUMERIC = "numeric", "Numeric"
        TEXT = "text", "Short text"

    class Difficulty(models.TextChoices):
        EASY = "easy", "Easy"
        MEDIUM = "medium", "Medium"
        HARD = "hard", "Hard"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    class Tolerance(models.TextChoices):
        ABSOLUTE = "absolute", "Absolute (±value)"
        RELATIVE = "relative", "Relative (±fraction of the answer)"

    class IrtSource(models.TextChoices):
        PRIOR = "prior", "Prior (difficulty label, or set by staff)"
        CALIBRATED = "calibrated", "Calibrated from responses"

    CHOICE_TYPES = (Type.SINGLE, Type.MULTIPLE, Type.TRUE_FALSE)

    external_id = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="Stable id from the source this question was imported from.",
    )
    type = models.CharField(max_length=16, choices=Type.choices)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="questions")
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    difficulty = models.CharField(
        max_length=8, choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    body_md = models.TextField("body (Markdown)")
    body_html = models.TextField(editable=False)
    explanation_md = models.TextField("explanation (Markdown)", blank=True)
    explanation_html = models.TextField(editable=False, blank=True)
    image = models.ImageField(upload_to="questions/%Y/%m/", blank=True)

    marks = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1"), help_text="Default marks."
    )
    negative_marks = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Default penalty for a wrong answer (a positive number).",
    )

    free_practice = models.BooleanField(
        "free practice",
        default=False,
        help_text="In the free practice pool: any learner may practise it and read its "
        "solution. Tests' rules never draw it; a fixed test that lists it keeps it out of "
        "practice for learners who may not yet see that test's solutions.",
    )

    numeric_answer = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    numeric_tolerance = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal("0"))
    tolerance_kind = models.CharField(
        max_length=10, choices=Tolerance.choices, default=Tolerance.ABSOLUTE
    )
    accepted_answers = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="Short-text answers accepted (compared ignoring case and spacing).",
    )

    # Item response theory (3PL): discrimination a, difficulty b, guessing c.
    irt_a = models.FloatField(default=1.0, validators=[MinValueValidator(0.01)])
    irt_b = models.FloatField(default=0.0)
    irt_c = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(0.99)]
    )
    # Where a, b came from (testengine.irt_fit; docs/testengine.md, "Calibration").
    irt_source = models.CharField(
        "IRT source", max_length=10, choices=IrtSource.choices, default=IrtSource.PRIOR
    )
    irt_responses = models.PositiveIntegerField(
        "IRT responses", default=0, help_text="How many scored responses the last fit used."
    )
    irt_calibrated_at = models.DateTimeField("IRT calibrated at", null=True, blank=True)

    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped whenever what the learner sees changes."
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Paper generation: ids of published questions matching a rule.
            models.Index(
                fields=["topic", "difficulty", "type"],
                condition=Q(status="published"),
                name="testengine_q_pick_idx",
            ),
            # Practice: the free practice pool (a small share of the bank).
            models.Index(
                fields=["topic"],
                condition=Q(status="published", free_practice=True),
                name="testengine_q_free_idx",
            ),
            GinIndex(fields=["tags"], name="testengine_q_tags_gin"),
            GinIndex(SearchVector("body_md", config="english"), name="testengine_q_body_search"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(marks__gte=0), name="testengine_q_marks_gte_0"),
            models.CheckConstraint(
                condition=Q(negative_marks__gte=0), name="testengine_q_negative_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(numeric_tolerance__gte=0), name="testengine_q_tolerance_gte_0"
            ),
            models.CheckConstraint(
                condition=~Q(type="numeric") | Q(numeric_answer__isnull=False),
                name="testengine_q_numeric_has_answer",
            ),
            models.CheckConstraint(
                condition=~Q(type="text") | Q(accepted_answers__len__gt=0),
                name="testengine_q_text_has_answers",
            ),
            models.CheckConstraint(
                condition=Q(irt_a__gt=0) & Q(irt_c__gte=0) & Q(irt_c__lt=1),
                name="testengine_q_irt_range",
            ),
            models.CheckConstraint(
                condition=Q(irt_source="prior") | Q(irt_calibrated_at__isnull=False),
                name="testengine_q_calibrated_has_date",
            ),
        ]

    def __str__(self) -> str:
        text = " ".join(self.body_md.split())
        return f"#{self.pk} {text[:70]}{'…' if len(text) > 70 else ''}"

    @property
    def has_choices(self) -> bool:
        return self.type in self.CHOICE_TYPES


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    body_md = models.TextField("text (Markdown)")
    body_html = models.TextField(editable=False)
    is_correct = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.body_md[:60]


class TestQuerySet(models.QuerySet["Test"]):
    def curated(self) -> TestQuerySet:
        """Tests staff write: never a learner's personal practice test
        (``Test.practice_owner``), which is its owner's alone. Every query that lists or
        reads tests for anyone but that owner starts here, so none can forget it."""
        return self.filter(practice_owner__isnull=True)


class Test(TimeStampedModel):
    __test__ = False  # "test" is our word for an exam; pytest must not collect this class

    class Mode(models.TextChoices):
        FIXED = "fixed", "Fixed (hand-picked questions)"
        RANDOM = "random", "Random (drawn by rules)"
        ADAPTIVE = "adaptive", "Adaptive"

    class AttemptPolicy(models.TextChoices):
        HIGHEST = "highest", "Highest score"
        AVERAGE = "average", "Average score"
        FIRST = "first", "First attempt"
        LAST = "last", "Last attempt"

    class SolutionPolicy(models.TextChoices):
        AFTER_SUBMIT = "after_submit", "After the learner submits"
        AFTER_WINDOW = "after_window", "After the availability window closes"
        NEVER = "never", "Never"

    class OnTimeUp(models.TextChoices):
        SUBMIT = "submit", "Submit the saved answers (auto-submit)"
        ABANDON = "abandon", "Abandon the attempt (not scored)"

    class Navigation(models.TextChoices):
        FREE = "free", "Free (any order, go back)"
        SEQUENTIAL = "sequential", "Sequential (one at a time, no going back)"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    instructions_md = models.TextField("instructions (Markdown)", blank=True)
    instructions_html = models.TextField(editable=False, blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.RANDOM)
    duration_seconds = models.PositiveIntegerField(help_text="Time allowed for the whole test.")
    max_attempts = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty for unlimited."
    )
    min_gap_seconds = models.PositiveIntegerField(
        default=0, help_text="Minimum time between the end of one attempt and the next start."
    )
    attempt_policy = models.CharField(
        max_length=10, choices=AttemptPolicy.choices, default=AttemptPolicy.HIGHEST
    )
    pass_mark_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    shuffle_questions = models.BooleanField(default=False)
    shuffle_choices = models.BooleanField(default=False)
    partial_marking = models.BooleanField(
        default=False,
        help_text="Multiple-choice answers with only correct options score a share of marks.",
    )
    navigation = models.CharField(
        max_length=12, choices=Navigation.choices, default=Navigation.FREE
    )
    solution_policy = models.CharField(
        max_length=14, choices=SolutionPolicy.choices, default=SolutionPolicy.AFTER_SUBMIT
    )
    on_time_up = models.CharField(
        "when time expires",
        max_length=8,
        choices=OnTimeUp.choices,
        default=OnTimeUp.SUBMIT,
        help_text="Auto-submit scores the answers saved until the deadline; abandon closes the "
        "attempt unscored (it still counts as an attempt).",
    )
    available_from = models.DateTimeField(null=True, blank=True)
    available_until = models.DateTimeField(null=True, blank=True)
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    adaptive_config = models.JSONField(
        default=dict, blank=True, help_text="Adaptive mode settings (stop rule, item pool)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    practice_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        help_text="A learner's personal practice test (learning app): only they sit it; "
        "never published, sold, listed or ranked. Empty for every other test.",
    )

    objects = TestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(practice_owner__isnull=True) | Q(is_published=False),
                name="testengine_test_practice_unpublished",
            ),
            models.CheckConstraint(
                condition=Q(duration_seconds__gt=0), name="testengine_test_duration_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(pass_mark_percent__isnull=True)
                | (Q(pass_mark_percent__gte=0) & Q(pass_mark_percent__lte=100)),
                name="testengine_test_pass_mark_range",
            ),
            models.CheckConstraint(
                condition=Q(max_attempts__isnull=True) | Q(max_attempts__gt=0),
                name="testengine_test_max_attempts_gt_0",
            ),
            models.CheckConstraint(
                condition=Q(available_from__isnull=True)
                | Q(available_until__isnull=True)
                | Q(available_until__gt=F("available_from")),
                name="testengine_test_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Section(models.Model):
    class Marking(models.TextChoices):
        QUESTION = "question", "Each question's own marks and penalty"
        FIXED = "fixed", "Fixed marks for every question (e.g. +4 / −1 / 0)"
        FRACTION = "fraction", "Question marks, penalty a fraction of them (e.g. GATE ⅓)"

    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=120)
    order = models.PositiveSmallIntegerField(default=0)
    instructions = models.TextField(blank=True)
    duration_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Own time limit; empty shares the test's time."
    )
    marking = models.CharField(max_length=10, choices=Marking.choices, default=Marking.QUESTION)
    correct_marks = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Fixed marking only."
    )
    wrong_penalty = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("0"), help_text="Fixed marking only."
    )
    unattempted_marks = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    negative_fraction = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        help_text="Fraction marking: penalty = fraction × question marks.",
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["test", "order"], name="testengine_section_order"),
            models.CheckConstraint(
                condition=~Q(marking="fixed") | Q(correct_marks__gt=0),
                name="testengine_section_fixed_has_marks",
            ),
            models.CheckConstraint(
                condition=Q(wrong_penalty__gte=0)
                & Q(negative_fraction__gte=0)
                & Q(negative_fraction__lte=1),
                name="testengine_section_penalty_range",
            ),
            models.CheckConstraint(
                condition=Q(duration_seconds__isnull=True) | Q(duration_seconds__gt=0),
                name="testengine_section_duration_gt_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.test} · {self.title}"


class SectionRule(models.Model):
    """Draw ``count`` published questions matching every given criterion."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="rules")
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.PROTECT, help_text="Empty for any."
    )
    include_subtopics = models.BooleanField(default=True)
    difficulty = models.CharField(
        max_length=8, choices=Question.Difficulty.choices, blank=True, help_text="Empty for any."
    )
    question_type = models.CharField(
        max_length=16, choices=Question.Type.choices, blank=True, help_text="Empty for any."
    )
    tags = ArrayField(
        models.CharField(max_length=50),
        default=list,
        blank=True,
        help_text="Questions must carry all of these.",
    )
    count = models.PositiveSmallIntegerField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(count__gt=0), name="testengine_rule_count_gt_0"),
        ]

    def __str__(self) -> str:
        parts = [str(self.count)]
        if self.difficulty:
            parts.append(self.difficulty)
        if self.question_type:
            parts.append(self.question_type)
        parts.append(f"from {self.topic}" if self.topic_id else "from any topic")
        if self.tags:
            parts.append("tagged " + ", ".join(self.tags))
        return " ".join(parts)


class SectionQuestion(models.Model):
    """A hand-picked question of a fixed-mode section."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="fixed_questions")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)
    marks = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Overrides the default."
    )
    negative_marks = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Overrides the default."
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "question"], name="testengine_sectionquestion_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.section} · {self.question_id}"


class QuestionStatistics(models.Model):
    """Classical item statistics (as Moodle's quiz statistics), from scored responses."""

    question = models.OneToOneField(
        Question, primary_key=True, on_delete=models.CASCADE, related_name="statistics"
    )
    responses = models.PositiveIntegerField(default=0)
    facility = models.FloatField(null=True, help_text="Mean mark ÷ max mark (0–1).")
    discrimination = models.FloatField(
        null=True, help_text="Correlation of item mark with the rest-of-test score (−1…1)."
    )
    discriminative_efficiency = models.FloatField(
        null=True, help_text="Discrimination ÷ the largest it could be for this item."
    )
    mark_sd = models.FloatField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "question statistics"

    def __str__(self) -> str:
        return f"stats for {self.question_id}"


class QuestionBankState(models.Model):
    """One row: a counter bumped by every write that can change which questions a rule may
    draw (a question's status, topic, difficulty, type or tags; the topic tree). Paper
    generation caches each rule's candidate ids under this version, so an unchanged bank
    costs no candidate queries while any change is seen at once by every process."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="testengine_bankstate_single_row")
        ]

    def __str__(self) -> str:
        return f"question bank v{self.version}"


class PreparedPaper(models.Model):
    """A paper generated ahead of a sitting (``testengine.pool``): exactly what
    ``generate_paper(test, seed)`` gives, with what starting a sitting stores beside it
    (the answer layout, the question count and the maximum score), so a start at the
    opening of a scheduled mock inserts it instead of generating one. Each row is claimed
    by at most one sitting (the claim deletes it).

    Freshness: the row carries the bank version and the test's ``updated_at`` read before
    it was generated; a claim takes only rows whose stamps equal the current ones, so a
    paper generated before a question, choice, topic, calibration or blueprint change is
    never given (``discard_stale_papers`` removes such rows)."""

    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="+")
    seed = models.BigIntegerField()
    paper = models.JSONField(help_text="The frozen paper (testengine.paper.Paper.to_json()).")
    layout = models.JSONField(help_text="testengine.paper.answer_layout(paper).")
    question_count = models.PositiveSmallIntegerField()
    max_score = models.DecimalField(max_digits=10, decimal_places=2)
    timed_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="When every section has its own time limit: their sum (the sitting's "
        "deadline is never later); empty otherwise.",
    )
    marking_key = models.CharField(
        max_length=64,
        help_text="testengine.scoring.marking_key(paper), stored on the sitting that claims it.",
    )
    bank_version = models.BigIntegerField(help_text="QuestionBankState.version when prepared.")
    test_updated_at = models.DateTimeField(help_text="The test's updated_at when prepared.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The claim: the oldest fresh paper of a test (equality on the stamps).
            models.Index(
                fields=["test", "bank_version", "test_updated_at", "id"],
                name="testengine_prepared_claim_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"prepared paper #{self.pk} of test {self.test_id}"
