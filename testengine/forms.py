"""Admin forms of the test engine.

A question is checked by ``services.question_validate`` and nothing else: the question form
asks it about its own fields, the choice inline asks it about the choices, and the admin
then saves the two together through ``question_create`` / ``question_update`` (which check
once more). The model's own constraints are never the first to object, so staff read the
same sentences the API gives instead of "Constraint … is violated".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.models import BaseInlineFormSet

from core.markdown import math_errors, unsafe_markup
from testengine import services
from testengine.models import Question, Section, SectionRule, Test, Topic
from testengine.services.tests import TEST_FIELDS

QUESTION_FIELDS = (
    "type",
    "topic",
    "status",
    "difficulty",
    "tags",
    "external_id",
    "body_md",
    "explanation_md",
    "image",
    "marks",
    "negative_marks",
    "numeric_answer",
    "numeric_tolerance",
    "tolerance_kind",
    "accepted_answers",
    "irt_a",
    "irt_b",
    "irt_c",
)
IRT_FIELDS = ("irt_a", "irt_b", "irt_c")


class ListField(forms.CharField):
    """A list typed as text: items split on ``separator``, trimmed, blanks dropped."""

    def __init__(self, *, separator: str, joiner: str, **kwargs: Any) -> None:
        self.separator = re.compile(separator)
        self.joiner = joiner
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return self.joiner.join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]  # a list field
        if isinstance(value, list | tuple):
            return [str(item).strip() for item in value if str(item).strip()]
        text = super().to_python(value)
        return [item.strip() for item in self.separator.split(text) if item.strip()]  # type: ignore[arg-type]

    def has_changed(self, initial: Any, data: Any) -> bool:
        # Compare lists: CharField's compares '' (no initial) with [] (no items) and calls
        # them different, so a blank extra inline row (a rule's empty tags) counted as
        # filled in and was validated ("This field is required").
        if self.disabled:
            return False
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True


def question_data(
    values: Mapping[str, Any],
    *,
    choices: tuple[services.ChoiceData, ...] = (),
    image: object | None = None,
) -> services.QuestionData:
    """A ``QuestionData`` from form values; a missing value (its field already has an
    error) falls back to a neutral one so the rest can still be checked."""
    return services.QuestionData(
        type=values.get("type") or "",
        topic=values.get("topic"),  # type: ignore[arg-type]  # None: the field's error stands
        body_md=values.get("body_md") or "",
        explanation_md=values.get("explanation_md") or "",
        difficulty=values.get("difficulty") or Question.Difficulty.MEDIUM,
        status=values.get("status") or Question.Status.DRAFT,
        tags=tuple(values.get("tags") or ()),
        marks=_decimal(values.get("marks"), "1"),
        negative_marks=_decimal(values.get("negative_marks"), "0"),
        numeric_answer=values.get("numeric_answer"),
        numeric_tolerance=_decimal(values.get("numeric_tolerance"), "0"),
        tolerance_kind=values.get("tolerance_kind") or Question.Tolerance.ABSOLUTE,
        accepted_answers=tuple(values.get("accepted_answers") or ()),
        choices=choices,
        irt_a=values.get("irt_a"),
        irt_b=values.get("irt_b"),
        irt_c=values.get("irt_c"),
        external_id=values.get("external_id"),
        image=image,
    )


def _decimal(value: Decimal | None, default: str) -> Decimal:
    return value if value is not None else Decimal(default)


def image_for_service(form: forms.ModelForm) -> object | None:
    """What ``QuestionData.image`` expects: a new upload, "" to clear, None to keep."""
    image = form.cleaned_data.get("image")
    if image is False:
        return ""
    if isinstance(image, UploadedFile):
        return image
    return None


class QuestionAdminForm(forms.ModelForm):
    tags = ListField(
        separator=r",",
        joiner=", ",
        help_text="Comma-separated, e.g. “kinematics, jee-main”. Stored in lower case.",
    )
    accepted_answers = ListField(
        separator=r"\r?\n",
        joiner="\n",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Short-text questions only: one accepted answer per line "
        "(compared ignoring case and spacing).",
    )

    class Meta:
        model = Question
        fields = QUESTION_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in IRT_FIELDS:
            if name in self.fields:
                self.fields[name].required = False
                if self.instance._state.adding:
                    # Left empty, the service estimates them from difficulty and choices.
                    self.initial[name] = None
                    self.fields[name].help_text = "Empty: estimated from the difficulty."

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # never None here
        errors = services.question_validate(question_data(cleaned))
        for name, messages in errors.items():
            # Choices are checked by the choice inline, which has them; a field that
            # already failed its own cleaning keeps that one error.
            if name in self.fields and name not in self._errors:  # type: ignore[attr-defined]
                for message in messages:
                    self.add_error(name, message)
        return cleaned


class ChoiceInlineFormSet(BaseInlineFormSet):
    """Checks the choices against the question's type with ``question_validate``."""

    def choice_data(self) -> tuple[services.ChoiceData, ...]:
        """The choices to save, in the order staff gave them (then as listed)."""
        rows: list[tuple[int, int, services.ChoiceData]] = []
        for position, form in enumerate(self.forms):
            cleaned = getattr(form, "cleaned_data", None)
            if not cleaned or (self.can_delete and self._should_delete_form(form)):  # type: ignore[attr-defined]
                continue
            rows.append(
                (
                    cleaned.get("order") or 0,
                    position,
                    services.ChoiceData(
                        id=form.instance.pk,
                        body_md=cleaned.get("body_md") or "",
                        is_correct=bool(cleaned.get("is_correct")),
                    ),
                )
            )
        rows.sort(key=lambda row: row[:2])
        return tuple(choice for *_, choice in rows)

    def clean(self) -> None:
        super().clean()
        # Each row must be readable first; and the question's type must be known (the
        # question form has already put its cleaned values on ``self.instance``).
        if any(self.errors) or self.instance.type not in Question.Type.values:
            return
        values = {
            name: getattr(self.instance, name)
            for name in QUESTION_FIELDS
            if name not in ("topic", "image")  # not needed to judge the choices
        }
        errors = services.question_validate(question_data(values, choices=self.choice_data()))
        if errors.get("choices"):
            raise ValidationError(errors["choices"])


class TopicAdminForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ("name", "slug", "parent", "order", "description")

    def clean_parent(self) -> Topic | None:
        parent = self.cleaned_data.get("parent")
        node, seen = parent, set()
        while node is not None and self.instance.pk and node.pk not in seen:
            if node.pk == self.instance.pk:
                raise ValidationError("A topic cannot sit under itself or its own subtopic.")
            seen.add(node.pk)
            node = node.parent
        return parent


class TestAdminForm(forms.ModelForm):
    __test__ = False  # not a pytest class, despite the name

    class Meta:
        model = Test
        fields = TEST_FIELDS  # the fields the test service writes, in its order

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # never None here
        found = unsafe_markup(cleaned.get("instructions_md") or "")
        if found:
            self.add_error("instructions_md", f"Remove the HTML that could run code ({found!r}).")
        for message in math_errors(cleaned.get("instructions_md") or ""):
            self.add_error("instructions_md", message)
        duration = cleaned.get("duration_seconds")
        if duration is not None and duration <= 0:
            self.add_error("duration_seconds", "The test needs a positive duration.")
        if cleaned.get("max_attempts") == 0:
            self.add_error("max_attempts", "At least one attempt; leave empty for unlimited.")
        pass_mark = cleaned.get("pass_mark_percent")
        if pass_mark is not None and not Decimal("0") <= pass_mark <= Decimal("100"):
            self.add_error("pass_mark_percent", "A pass mark is a percentage from 0 to 100.")
        start, end = cleaned.get("available_from"), cleaned.get("available_until")
        if start and end and end <= start:
            self.add_error("available_until", "The window must close after it opens.")
        return cleaned


class SectionAdminForm(forms.ModelForm):
    """Field errors for what the section's constraints would otherwise refuse."""

    class Meta:
        model = Section
        fields = (
            "title",
            "order",
            "instructions",
            "duration_seconds",
            "marking",
            "correct_marks",
            "wrong_penalty",
            "unattempted_marks",
            "negative_fraction",
        )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # never None here
        if cleaned.get("marking") == Section.Marking.FIXED and not cleaned.get("correct_marks"):
            self.add_error("correct_marks", "Fixed marking needs the marks for a correct answer.")
        elif (cleaned.get("correct_marks") or 0) < 0:
            self.add_error("correct_marks", "Marks cannot be negative.")
        fraction = cleaned.get("negative_fraction")
        if fraction is not None and not Decimal("0") <= fraction <= Decimal("1"):
            self.add_error("negative_fraction", "A fraction between 0 and 1, e.g. 0.3333.")
        if (cleaned.get("wrong_penalty") or 0) < 0:
            self.add_error("wrong_penalty", "Give the penalty as a positive number.")
        if cleaned.get("duration_seconds") == 0:
            self.add_error("duration_seconds", "Leave empty to share the test's time.")
        return cleaned


class SectionRuleForm(forms.ModelForm):
    tags = ListField(
        separator=r",",
        joiner=", ",
        help_text="Comma-separated; questions must carry all of them.",
    )

    class Meta:
        model = SectionRule
        fields = (
            "topic",
            "include_subtopics",
            "difficulty",
            "question_type",
            "tags",
            "count",
            "order",
        )

    def clean_tags(self) -> list[str]:
        return ["-".join(tag.lower().split()) for tag in self.cleaned_data["tags"]]

    def clean_count(self) -> int:
        count = self.cleaned_data["count"]
        if count is not None and count <= 0:
            raise ValidationError("Every rule draws at least one question.")
        return count
