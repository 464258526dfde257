"""Back office for the test engine: topics, the question bank, tests and their blueprints.

Questions, topics and tests are written by the services (one validation, rendered
Markdown, versioning); the admin only turns forms into service calls. Sections, rules and
hand-picked questions are plain rows edited inline; a published test must stay fillable,
so a save that breaks it is rolled back whole.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Func, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from core.admin import ServiceErrorsMixin
from testengine import services
from testengine.admin_importexport import ImportExportMixin
from testengine.errors import PaperUnavailable, RulesUnfillable
from testengine.forms import (
    ChoiceInlineFormSet,
    QuestionAdminForm,
    SectionAdminForm,
    SectionRuleForm,
    TestAdminForm,
    TopicAdminForm,
    image_for_service,
    question_data,
)
from testengine.models import (
    Choice,
    Question,
    QuestionStatistics,
    Section,
    SectionQuestion,
    SectionRule,
    Test,
    Topic,
)
from testengine.paper import generate_paper
from testengine.pool import poolable
from testengine.services.questions import MAX_CHOICES
from testengine.tasks import schedule_prepare_papers

if TYPE_CHECKING:
    from testengine.models import TestQuerySet

    # What the admin hands save_related: the inline formsets of the page.
    _Formsets = list[BaseInlineFormSet[Any, Any, Any]]

EMPTY = "—"
TIMESTAMPS = ("created_at", "updated_at")


def _adopt(obj: Any, saved: Any) -> None:
    """Point the admin's instance at the row a service wrote, so the admin's log entry,
    redirect and inlines use that row."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj.refresh_from_db()


def availability_html(report: services.CheckReport, *, section_id: int | None = None) -> SafeString:
    """The check report as a table: one row per rule (or fixed section), then problems."""
    rows = [row for row in report.rules if section_id is None or row.section_id == section_id]
    body = format_html_join(
        "",
        '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                "ok" if row.ok else "short",
                row.section_title,
                row.description,
                row.needed,
                row.available,
                "ok" if row.ok else f"short by {row.needed - row.available}",
            )
            for row in rows
        ),
    )
    table = (
        format_html(
            '<table class="availability"><thead><tr><th>Section</th><th>Rule</th>'
            "<th>Needed</th><th>Available</th><th>Status</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )
        if rows
        else format_html("<p>{}</p>", "No rules yet.")
    )
    problems = format_html_join("", "<li>{}</li>", ((problem,) for problem in report.problems))
    verdict = (
        format_html('<p class="availability-verdict ok">{}</p>', "Every rule can be filled.")
        if report.ok
        else format_html(
            '<p class="availability-verdict short errornote">{}</p>',
            "The bank cannot fill this test.",
        )
    )
    return format_html(
        "{}{}{}",
        verdict,
        table,
        format_html('<ul class="errorlist">{}</ul>', problems) if report.problems else "",
    )


class FillableTestMixin(ServiceErrorsMixin):
    def ensure_fillable(self, test: Test) -> None:
        test.refresh_from_db(fields=["is_published"])
        if not test.is_published:
            return
        report = services.test_check(test=test)
        if not report.ok:
            raise RulesUnfillable(
                "A published test must stay fillable; this change breaks it "
                "(unpublish it first to rework it).",
                fields={"rules": report.shortfalls()},
            )


# --- topics -------------------------------------------------------------------------------------


@admin.register(Topic)
class TopicAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    # Explicit: the annotated queryset below drops the model's default ordering, and
    # autocomplete pages need a stable order.
    ordering = ("order", "name", "id")
    form = TopicAdminForm
    list_display = ("name", "path", "slug", "order", "question_count")
    list_select_related = ("parent__parent",)
    list_filter = (("parent", admin.EmptyFieldListFilter),)
    search_fields = ("name", "slug", "parent__name")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    readonly_fields = TIMESTAMPS
    fields = ("name", "slug", "parent", "order", "description", *TIMESTAMPS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(_questions=Count("questions"))

    @admin.display(description="Place in the tree")
    def path(self, obj: Topic) -> str:
        names, node = [obj.name], obj
        for _ in range(2):  # two ancestors come with the row (list_select_related)
            if not node.parent_id:
                break
            node = node.parent  # type: ignore[assignment]  # parent_id is set
            names.insert(0, node.name)
        if node.parent_id:
            names.insert(0, "…")
        return " › ".join(names)

    @admin.display(description="Questions", ordering="_questions")
    def question_count(self, obj: Topic) -> int:
        return obj._questions  # type: ignore[attr-defined]  # annotated by get_queryset

    def save_model(
        self, request: HttpRequest, obj: Topic, form: ModelForm[Topic], change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in TopicAdminForm.Meta.fields}
        if change:
            services.topic_update(topic=obj, **values)
        else:
            _adopt(obj, services.topic_create(**values))

    def delete_model(self, request: HttpRequest, obj: Topic) -> None:
        services.topic_delete(topic=obj)


# --- questions ----------------------------------------------------------------------------------


class TagListFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"
    max_tags = 200

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        tags = (
            Question.objects.annotate(tag=Func(F("tags"), function="unnest"))
            .values_list("tag", flat=True)
            .distinct()
            .order_by("tag")[: self.max_tags]
        )
        return [(tag, tag) for tag in tags]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(tags__contains=[self.value()])
        return queryset


class HasStatisticsFilter(admin.SimpleListFilter):
    title = "statistics"
    parameter_name = "has_statistics"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("yes", "Computed"), ("no", "Not yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(statistics__isnull=self.value() == "no")
        return queryset


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    fields = ("body_md", "is_correct", "order")
    max_num = MAX_CHOICES

    def get_extra(self, request: HttpRequest, obj: Question | None = None, **kwargs: Any) -> int:
        return 0 if obj is not None else 4


def _statistics(question: Question) -> QuestionStatistics | None:
    try:
        return question.statistics
    except QuestionStatistics.DoesNotExist:
        return None


def _figure(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.2f}"


@admin.register(Question)
class QuestionAdmin(ImportExportMixin, ServiceErrorsMixin, admin.ModelAdmin):
    form = QuestionAdminForm
    inlines = [ChoiceInline]
    list_display = (
        "id",
        "short_body",
        "type",
        "topic",
        "difficulty",
        "status",
        "version",
        "responses",
        "facility",
        "discrimination",
    )
    list_display_links = ("id", "short_body")
    list_select_related = ("topic", "statistics")
    list_filter = (
        "status",
        "type",
        "difficulty",
        "topic",
        TagListFilter,
        HasStatisticsFilter,
        "free_practice",
        "irt_source",
    )
    search_fields = ("body_md", "external_id")
    autocomplete_fields = ("topic",)
    readonly_fields = (
        "free_practice",  # changed by the pool actions, which keep published tests fillable
        "body_preview",
        "explanation_preview",
        "statistics_table",
        "calibration_table",
        "version",
        "published_at",
        "created_by",
        *TIMESTAMPS,
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "type",
                    "topic",
                    "status",
                    "difficulty",
                    "tags",
                    "external_id",
                    "free_practice",
                )
            },
        ),
        (
            "Content",
            {
                "fields": (
                    "body_md",
                    "body_preview",
                    "explanation_md",
                    "explanation_preview",
                    "image",
                )
            },
        ),
        ("Marking", {"fields": ("marks", "negative_marks")}),
        (
            "Answer (numeric and short-text questions)",
            {
                "fields": (
                    "numeric_answer",
                    "numeric_tolerance",
                    "tolerance_kind",
                    "accepted_answers",
                )
            },
        ),
        ("Item response theory", {"classes": ("collapse",), "fields": ("irt_a", "irt_b", "irt_c")}),
        ("Statistics", {"fields": (("statistics_table", "calibration_table"),)}),
        ("History", {"fields": ("version", "published_at", "created_by", *TIMESTAMPS)}),
    )
    actions = [
        "publish_selected",
        "retire_selected",
        "move_to_draft",
        "add_to_free_practice",
        "remove_from_free_practice",
    ]

    # -- list columns

    @admin.display(description="Question")
    def short_body(self, obj: Question) -> str:
        text = " ".join(obj.body_md.split())
        return f"{text[:80]}…" if len(text) > 80 else text

    @admin.display(description="Responses", ordering="statistics__responses")
    def responses(self, obj: Question) -> str:
        stats = _statistics(obj)
        return EMPTY if stats is None else str(stats.responses)

    @admin.display(description="Facility", ordering="statistics__facility")
    def facility(self, obj: Question) -> str:
        stats = _statistics(obj)
        return EMPTY if stats is None else _figure(stats.facility)

    @admin.display(description="Discrimination", ordering="statistics__discrimination")
    def discrimination(self, obj: Question) -> str:
        stats = _statistics(obj)
        return EMPTY if stats is None else _figure(stats.discrimination)

    # -- read-only parts of the page

    @admin.display(description="Body as learners see it")
    def body_preview(self, obj: Question) -> SafeString | str:
        if not obj.body_html:
            return EMPTY
        # body_html is stored already sanitised by core.markdown (nh3 allow-list).
        return format_html('<div class="question-preview">{}</div>', mark_safe(obj.body_html))  # noqa: S308

    @admin.display(description="Explanation as learners see it")
    def explanation_preview(self, obj: Question) -> SafeString | str:
        if not obj.explanation_html:
            return EMPTY
        # Stored sanitised, like body_html.
        return format_html(
            '<div class="question-preview">{}</div>',
            mark_safe(obj.explanation_html),  # noqa: S308
        )

    @admin.display(description="Item statistics")
    def statistics_table(self, obj: Question) -> SafeString | str:
        stats = _statistics(obj) if obj.pk else None
        if stats is None:
            return "Not computed yet."
        return format_html(
            "<table><tr><th>Responses</th><td>{}</td></tr>"
            "<tr><th>Facility</th><td>{}</td></tr>"
            "<tr><th>Discrimination</th><td>{}</td></tr>"
            "<tr><th>Discriminative efficiency</th><td>{}</td></tr>"
            "<tr><th>Computed at</th><td>{}</td></tr></table>",
            stats.responses,
            _figure(stats.facility),
            _figure(stats.discrimination),
            _figure(stats.discriminative_efficiency),
            stats.computed_at,
        )

    @admin.display(description="IRT parameters")
    def calibration_table(self, obj: Question) -> SafeString | str:
        if not obj.pk:
            return EMPTY
        calibrated = obj.irt_source == Question.IrtSource.CALIBRATED
        return format_html(
            "<table><tr><th>a (discrimination)</th><td>{}</td></tr>"
            "<tr><th>b (difficulty)</th><td>{}</td></tr>"
            "<tr><th>c (guessing)</th><td>{}</td></tr>"
            "<tr><th>Source</th><td>{}</td></tr>"
            "<tr><th>Responses fitted</th><td>{}</td></tr>"
            "<tr><th>Calibrated at</th><td>{}</td></tr></table>",
            f"{obj.irt_a:.3f}",
            f"{obj.irt_b:.3f}",
            f"{obj.irt_c:.3f}",
            obj.get_irt_source_display(),
            obj.irt_responses if calibrated else EMPTY,
            obj.irt_calibrated_at or EMPTY,
        )

    # -- saving: the question and its choices are one unit for the service

    def save_model(
        self, request: HttpRequest, obj: Question, form: ModelForm[Question], change: bool
    ) -> None:
        """Written in ``save_related``, where the choices are known too."""

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: _Formsets, change: bool
    ) -> None:
        choice_formset = next(fs for fs in formsets if isinstance(fs, ChoiceInlineFormSet))
        data = question_data(
            form.cleaned_data,
            choices=choice_formset.choice_data(),
            image=image_for_service(form),
        )
        if change:
            saved = services.question_update(question=form.instance, data=data)
        else:
            saved = services.question_create(data=data, by=request.user)  # type: ignore[arg-type]  # signed-in staff
        _adopt(form.instance, saved)
        # The admin's change message reads what formsets saved; the service saved it.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # -- bulk actions

    def _set_status(self, request: HttpRequest, queryset: QuerySet, status: str, verb: str):
        changed = services.question_set_status(questions=list(queryset), status=status)
        self.message_user(request, f"{verb} {changed} question(s).", messages.SUCCESS)

    @admin.action(description="Publish selected questions", permissions=["change"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, Question.Status.PUBLISHED, "Published")

    @admin.action(description="Retire selected questions", permissions=["change"])
    def retire_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, Question.Status.RETIRED, "Retired")

    @admin.action(description="Move selected questions to draft", permissions=["change"])
    def move_to_draft(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, Question.Status.DRAFT, "Moved to draft")

    def _set_free_practice(self, request: HttpRequest, queryset: QuerySet, free: bool) -> None:
        try:
            changed = services.question_set_free_practice(questions=list(queryset), free=free)
        except RulesUnfillable as exc:
            tests = "; ".join((exc.fields or {}).get("tests", []))
            self.message_user(request, f"{exc.detail} {tests}", messages.ERROR)
            return
        where = "into" if free else "out of"
        message = f"Moved {changed} question(s) {where} the free practice pool."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(
        description="Add selected questions to the free practice pool", permissions=["change"]
    )
    def add_to_free_practice(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_free_practice(request, queryset, True)

    @admin.action(
        description="Remove selected questions from the free practice pool", permissions=["change"]
    )
    def remove_from_free_practice(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_free_practice(request, queryset, False)


@admin.register(QuestionStatistics)
class QuestionStatisticsAdmin(admin.ModelAdmin):
    """Figures computed from scored responses; nothing here is typed by people."""

    list_display = (
        "question",
        "responses",
        "facility",
        "discrimination",
        "discriminative_efficiency",
        "computed_at",
    )
    list_select_related = ("question",)
    search_fields = ("question__body_md", "question__external_id")
    ordering = ("-computed_at",)
    readonly_fields = (
        "question",
        "responses",
        "facility",
        "discrimination",
        "discriminative_efficiency",
        "mark_sd",
        "computed_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: QuestionStatistics | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: QuestionStatistics | None = None
    ) -> bool:
        return False


# --- tests and their blueprints -----------------------------------------------------------------


class SectionInline(admin.TabularInline):
    model = Section
    form = SectionAdminForm
    fields = (
        "title",
        "order",
        "duration_seconds",
        "marking",
        "correct_marks",
        "wrong_penalty",
        "unattempted_marks",
        "negative_fraction",
    )
    extra = 0
    show_change_link = True


@admin.register(Test)
class TestAdmin(FillableTestMixin, admin.ModelAdmin):
    ordering = ("-created_at", "id")  # stable pages for the annotated list and autocomplete
    __test__ = False  # not a pytest class, despite the name

    form = TestAdminForm
    inlines = [SectionInline]
    list_display = (
        "title",
        "slug",
        "mode",
        "duration",
        "is_published",
        "section_count",
        "created_at",
    )
    list_filter = ("mode", "is_published")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = (
        "is_published",
        "published_at",
        "availability",
        "preview_link",
        "created_by",
        *TIMESTAMPS,
    )
    fieldsets = (
        (None, {"fields": ("title", "slug", "mode", "instructions_md")}),
        (
            "Timing and attempts",
            {
                "fields": (
                    "duration_seconds",
                    "available_from",
                    "available_until",
                    "max_attempts",
                    "min_gap_seconds",
                    "attempt_policy",
                    "navigation",
                )
            },
        ),
        (
            "Marking and solutions",
            {
                "fields": (
                    "pass_mark_percent",
                    "partial_marking",
                    "shuffle_questions",
                    "shuffle_choices",
                    "solution_policy",
                    "on_time_up",
                    "adaptive_config",
                )
            },
        ),
        (
            "Publishing",
            {
                "description": "Publish and unpublish with the actions of the test list; "
                "a test is published only when the bank can fill every rule.",
                "fields": ("is_published", "published_at", "availability", "preview_link"),
            },
        ),
        ("History", {"fields": ("created_by", *TIMESTAMPS)}),
    )
    actions = ["publish", "unpublish", "prepare_papers"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Test]:
        # Learners' personal practice tests are theirs, not content: staff never list,
        # publish or add them to a product (autocompletes read this queryset too).
        # ModelAdmin's stubs type its queryset a plain QuerySet, not the manager's.
        queryset: TestQuerySet = super().get_queryset(request)  # type: ignore[assignment]
        return queryset.curated().annotate(_sections=Count("sections"))

    @admin.display(description="Duration", ordering="duration_seconds")
    def duration(self, obj: Test) -> str:
        minutes, seconds = divmod(obj.duration_seconds, 60)
        return f"{minutes} min" + (f" {seconds} s" if seconds else "")

    @admin.display(description="Sections", ordering="_sections")
    def section_count(self, obj: Test) -> int:
        return obj._sections  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="Rule availability")
    def availability(self, obj: Test) -> SafeString | str:
        if obj.pk is None:
            return "Save the test, add sections and rules, then check here."
        if obj.mode == Test.Mode.ADAPTIVE:
            return "Adaptive tests choose items during the sitting; there are no rules to fill."
        return availability_html(services.test_check(test=obj))

    @admin.display(description="Preview")
    def preview_link(self, obj: Test) -> SafeString | str:
        if obj.pk is None:
            return EMPTY
        url = reverse("admin:testengine_test_preview", args=[obj.pk])
        return format_html('<a href="{}" target="_blank">Generate a sample paper</a>', url)

    # -- saving

    def save_model(
        self, request: HttpRequest, obj: Test, form: ModelForm[Test], change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in TestAdminForm.Meta.fields}
        if change:
            saved = services.test_update(test=obj, values=values)
        else:
            saved = services.test_create(values=values, sections=[], by=request.user)  # type: ignore[arg-type]  # signed-in staff
        _adopt(obj, saved)

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: _Formsets, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        self.ensure_fillable(form.instance)

    # -- preview

    def get_urls(self):
        preview = path(
            "<path:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="testengine_test_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        test = self.get_object(request, unquote(object_id))
        if test is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_view_or_change_permission(request, test):
            raise PermissionDenied
        seed_text = request.GET.get("seed", "")
        seed = int(seed_text) if seed_text.isdigit() else secrets.randbelow(2**31)
        paper, problem = None, None
        try:
            paper = generate_paper(test, seed=seed)
        except PaperUnavailable as exc:
            problem = exc.detail
        context = {
            **self.admin_site.each_context(request),
            "title": f"Sample paper: {test.title}",
            "opts": self.opts,
            "original": test,
            "test": test,
            "paper": paper,
            "problem": problem,
            "seed": seed,
            "change_url": reverse("admin:testengine_test_change", args=[test.pk]),
            "preview_url": reverse("admin:testengine_test_preview", args=[test.pk]),
        }
        return TemplateResponse(request, "admin/testengine/test/preview.html", context)

    # -- actions

    @admin.action(description="Publish selected tests", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet) -> None:
        published = 0
        for test in queryset:
            try:
                services.test_publish(test=test)
            except RulesUnfillable:
                report = services.test_check(test=test)
                self.message_user(
                    request,
                    f"“{test.title}” was not published: " + " ".join(report.shortfalls()),
                    messages.ERROR,
                )
            else:
                published += 1
        if published:
            self.message_user(request, f"Published {published} test(s).", messages.SUCCESS)

    @admin.action(
        description="Prepare papers ahead of a sitting (PREPARED_PAPERS_PER_TEST each)",
        permissions=["change"],
    )
    def prepare_papers(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = settings.PREPARED_PAPERS_PER_TEST
        pooled = [test for test in queryset if poolable(test)]
        for test in queryset:
            if test not in pooled:
                self.message_user(
                    request,
                    f"“{test.title}”: no papers prepared (only published fixed and random "
                    "tests are).",
                    messages.WARNING,
                )
        if pooled:
            schedule_prepare_papers([test.pk for test in pooled], count)
            self.message_user(
                request,
                f"Preparing up to {count} fresh papers for {len(pooled)} test(s) in the "
                "background; a later change to a test or its questions makes them stale.",
                messages.SUCCESS,
            )

    @admin.action(description="Unpublish selected tests", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet) -> None:
        for test in queryset:
            services.test_unpublish(test=test)
        self.message_user(request, f"Unpublished {queryset.count()} test(s).", messages.SUCCESS)


class SectionRuleInline(admin.TabularInline):
    model = SectionRule
    form = SectionRuleForm
    fields = ("topic", "include_subtopics", "difficulty", "question_type", "tags", "count", "order")
    autocomplete_fields = ("topic",)
    extra = 1


class SectionQuestionInline(admin.TabularInline):
    model = SectionQuestion
    fields = ("question", "order", "marks", "negative_marks")
    autocomplete_fields = ("question",)
    extra = 1


@admin.register(Section)
class SectionAdmin(FillableTestMixin, admin.ModelAdmin):
    """Reached from a test's page; rules (random tests) or questions (fixed tests)."""

    form = SectionAdminForm
    list_display = ("title", "test", "order", "marking")
    list_select_related = ("test",)
    search_fields = ("title", "test__title")
    autocomplete_fields = ("test",)
    readonly_fields = ("availability",)
    fields = (
        "test",
        "title",
        "order",
        "instructions",
        "duration_seconds",
        "marking",
        "correct_marks",
        "wrong_penalty",
        "unattempted_marks",
        "negative_fraction",
        "availability",
    )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False  # sections are edited from their test

    def get_readonly_fields(self, request: HttpRequest, obj: Section | None = None):
        # A section stays with the test it was created in.
        return ("test", *self.readonly_fields) if obj else self.readonly_fields

    def get_inline_instances(self, request: HttpRequest, obj: Section | None = None):
        if obj is None:
            return []  # the test's mode decides which inline applies; save first
        inline = SectionQuestionInline if obj.test.mode == Test.Mode.FIXED else SectionRuleInline
        return [inline(self.model, self.admin_site)]

    def has_delete_permission(self, request: HttpRequest, obj: Section | None = None) -> bool:
        if obj is not None and obj.test.is_published:
            return False  # unpublish the test first
        return super().has_delete_permission(request, obj)

    @admin.display(description="Rule availability")
    def availability(self, obj: Section) -> SafeString | str:
        if obj.pk is None:
            return "Save the section, then add its rules or questions."
        report = services.test_check(test=obj.test)
        return availability_html(report, section_id=obj.pk)

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: _Formsets, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        self.ensure_fillable(form.instance.test)
