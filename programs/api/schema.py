"""OpenAPI documentation of the programs API (``programs.api.views``): one decorator per
operation, applied on the view as ``@schema.<name>``. Error responses are declared with the
errors each operation raises (core.api.schema.error_responses)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema

from core.api.schema import error_responses
from programs.api import serializers as s
from programs.errors import (
    AlreadySubmitted,
    CertificateNotFound,
    EnrollmentExpired,
    MilestoneDone,
    MilestoneLocked,
    MilestoneNotFound,
    NoReviewNeeded,
    ProgramInvalid,
    ProgramNotFound,
)

TAG = ["programs"]

_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The program's slug.")

_CODE = OpenApiParameter(
    "code", str, OpenApiParameter.PATH, description="As printed, e.g. `7KQ2-M9XD-3HPA-W0RT`."
)

_SUMMARY_EXAMPLE = {
    "product": {
        "slug": "backend-engineering-internship-program",
        "title": "Backend Engineering Internship Program",
    },
    "track": {"id": 3, "name": "3 months"},
    "enrollment": {
        "starts_at": "2026-11-01T09:00:00Z",
        "expires_at": "2027-01-30T09:00:00Z",
        "is_live": True,
    },
    "percent": 40,
    "done": 4,
    "required": 10,
    "next": {
        "milestone": 12,
        "title": "Build a REST API",
        "state": "open",
        "due_at": "2026-12-06T09:00:00Z",
        "action": "Next: submit a link to your project work.",
    },
    "certificate": None,
}

syllabus = extend_schema(
    tags=TAG,
    summary="A program's syllabus (public)",
    description="What each track (plan) of a published program covers, in order: "
    "milestones with their phase, week, tests and whether a project sign-off is "
    "needed. Prices are on the catalogue's product.",
    parameters=[_SLUG],
    responses={
        200: s.SyllabusSerializer,
        **error_responses(ProgramNotFound("No such program.")),
    },
)

my_programs = extend_schema(
    tags=TAG,
    summary="My programs and my progress",
    description="Every program you are enrolled in (live or lapsed, not revoked), with "
    "your track, overall progress, the next step and your certificate once earned.",
    responses={200: s.ProgramSummarySerializer(many=True), **error_responses(401)},
    examples=[OpenApiExample("Programs", value=[_SUMMARY_EXAMPLE], response_only=True)],
)

my_program = extend_schema(
    tags=TAG,
    summary="My progress in one program",
    description="Your track's phases and milestones in order, each with its state, due "
    "date (from your enrollment's start), tests and your best result in each, and your "
    "latest project submission with the reviewer's comment.",
    parameters=[_SLUG],
    responses={
        200: s.ProgramDetailSerializer,
        **error_responses(401, ProgramNotFound),
    },
)

submission_create = extend_schema(
    tags=TAG,
    summary="Submit project work for review",
    description="For a milestone completed by staff sign-off: a link to your work (a "
    "repository, a deployed app) and an optional note. Staff accept it or ask for "
    "changes; you can submit again after changes are requested.",
    parameters=[
        _SLUG,
        OpenApiParameter("milestone_id", int, OpenApiParameter.PATH, description="Milestone id."),
    ],
    request=s.SubmissionInputSerializer,
    responses={
        201: s.SubmissionSerializer,
        **error_responses(
            ProgramInvalid(
                fields={"url": ["Enter a full http(s) link, e.g. https://github.com/you/project."]}
            ),
            401,
            429,
            ProgramNotFound,
            MilestoneNotFound,
            MilestoneLocked,
            MilestoneDone,
            AlreadySubmitted,
            NoReviewNeeded,
            EnrollmentExpired,
        ),
    },
    examples=[
        OpenApiExample(
            "Submit",
            value={
                "url": "https://github.com/ananya/orders-api",
                "note": "Deployed at https://orders.example.dev",
            },
            request_only=True,
        )
    ],
)

certificate_verify = extend_schema(
    tags=TAG,
    summary="Verify a certificate (public)",
    description="Anyone (an employer) can check a certificate by its code: who earned "
    "it, for which program and track, when, and whether it has been revoked (and why). "
    "Codes are 80 random bits; lookups are throttled per address.",
    parameters=[_CODE],
    responses={
        200: s.CertificateVerificationSerializer,
        **error_responses(CertificateNotFound, 429),
    },
)
