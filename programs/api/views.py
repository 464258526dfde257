"""The programs API: the learner's programs and progress, project submissions, and the
public verification of a certificate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from django.urls import reverse
from django.utils import timezone
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.throttling import ScopedIPThrottle
from programs import selectors, services
from programs.api import schema
from programs.api import serializers as s
from programs.errors import (
    CertificateNotFound,
    ProgramNotFound,
)
from programs.models import Certificate

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest


class CertificateVerifyThrottle(ScopedIPThrottle):
    scope = "certificate_verify"


class ProjectSubmitThrottle(UserRateThrottle):
    scope = "project_submit"


# --- payloads ------------------------------------------------------------------------------------


@overload
def certificate_payload(certificate: Certificate, request: Request) -> dict[str, Any]: ...
@overload
def certificate_payload(certificate: None, request: Request) -> None: ...
@overload
def certificate_payload(
    certificate: Certificate | None, request: Request
) -> dict[str, Any] | None: ...
def certificate_payload(certificate: Certificate | None, request: Request) -> dict[str, Any] | None:
    if certificate is None:
        return None
    return {
        "code": certificate.code,
        "completed_at": certificate.completed_at,
        "revoked": certificate.is_revoked,
        "verify_url": request.build_absolute_uri(
            reverse("certificate-page", args=[certificate.code])
        ),
        "pdf_url": request.build_absolute_uri(reverse("certificate-pdf", args=[certificate.code])),
    }


def _action(state: selectors.MilestoneState) -> str:
    if state.state == "submitted":
        return "Your project link is waiting for review."
    todo = [
        f"pass “{test.title}”"
        + (f" ({test.pass_mark_percent:g} %)" if test.pass_mark_percent is not None else "")
        for test in state.tests
        if not test.passed
    ]
    submission = state.submission
    if state.milestone.requires_review:
        if submission and submission.status == submission.Status.CHANGES_REQUESTED:
            todo.append("submit your project again (see the reviewer's comment)")
        else:
            todo.append("submit a link to your project work")
    return ("Next: " + "; ".join(todo) + ".") if todo else "Nothing left to do here."


def summary_payload(progress: selectors.Progress, request: Request) -> dict[str, Any]:
    enrollment, track = progress.enrollment, progress.track
    required = progress.required
    step = progress.next
    return {
        "product": {"slug": enrollment.product.slug, "title": enrollment.product.title},
        "track": {"id": track.pk, "name": track.plan.name},
        "enrollment": {
            "starts_at": enrollment.starts_at,
            "expires_at": enrollment.expires_at,
            "is_live": enrollment.expires_at is None or enrollment.expires_at > progress.now,
        },
        "percent": progress.percent,
        "done": sum(m.state == "done" for m in required),
        "required": len(required),
        "next": None
        if step is None
        else {
            "milestone": step.milestone.pk,
            "title": step.milestone.title,
            "state": step.state,
            "due_at": step.due_at,
            "action": _action(step),
        },
        "certificate": certificate_payload(progress.certificate, request),
    }


def detail_payload(progress: selectors.Progress, request: Request) -> dict[str, Any]:
    phases: dict[int, dict[str, Any]] = {}
    for state in progress.milestones:
        milestone, phase = state.milestone, state.milestone.phase
        entry = phases.setdefault(
            phase.pk,
            {
                "id": phase.pk,
                "title": phase.title,
                "description": phase.description,
                "milestones": [],
            },
        )
        entry["milestones"].append(
            {
                "id": milestone.pk,
                "number": state.number,
                "title": milestone.title,
                "description_html": milestone.description_html,
                "target_week": state.target_week,
                "due_at": state.due_at,
                "overdue": state.state != "done" and state.due_at < progress.now,
                "state": state.state,
                "is_required": milestone.is_required,
                "requires_review": milestone.requires_review,
                "tests": [
                    {
                        "slug": test.slug,
                        "title": test.title,
                        "pass_mark_percent": test.pass_mark_percent,
                        "best_percentage": test.best_percentage,
                        "passed": test.passed,
                    }
                    for test in state.tests
                ],
                "submission": state.submission,
                "completed_at": state.completed_at,
            }
        )
    return {
        **summary_payload(progress, request),
        "unlock_in_order": progress.track.program.unlock_in_order,
        "phases": list(phases.values()),
    }


# --- views ---------------------------------------------------------------------------------------


class SyllabusView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []  # public: a stale token sent along is not read

    @schema.syllabus
    def get(self, request: Request, slug: str) -> Response:
        program, tracks = selectors.published_program(slug)
        if program is None:
            raise ProgramNotFound("No such program.")
        product = program.product
        body = {
            "product": {"slug": product.slug, "title": product.title},
            "unlock_in_order": program.unlock_in_order,
            "certificate": program.certificate_title or product.title,
            "tracks": [
                {
                    "id": track.pk,
                    "plan": track.plan_id,
                    "name": track.plan.name,
                    "milestones": [
                        {
                            "id": entry.milestone_id,
                            "title": entry.milestone.title,
                            "description_html": entry.milestone.description_html,
                            "phase": entry.milestone.phase.title,
                            "week": entry.target_week or entry.milestone.target_week,
                            "is_required": entry.milestone.is_required,
                            "requires_review": entry.milestone.requires_review,
                            "tests": [link.test.title for link in entry.milestone.links.all()],
                        }
                        for entry in entries
                    ],
                }
                for track, entries in tracks
            ],
        }
        return Response(s.SyllabusSerializer(body).data)


class MyProgramsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @schema.my_programs
    def get(self, request: AuthenticatedRequest) -> Response:
        now = timezone.now()
        rows = [
            summary_payload(selectors.progress(enrollment=enrollment, now=now), request)
            for enrollment in selectors.program_enrollments(user=request.user)
        ]
        return Response(s.ProgramSummarySerializer(rows, many=True).data)


class MyProgramView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @schema.my_program
    def get(self, request: AuthenticatedRequest, slug: str) -> Response:
        enrollment = selectors.enrollment_for(user=request.user, product_slug=slug)
        if enrollment is None:
            raise ProgramNotFound()
        progress = selectors.progress(enrollment=enrollment)
        return Response(s.ProgramDetailSerializer(detail_payload(progress, request)).data)


class SubmissionCreateView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [ProjectSubmitThrottle]

    @schema.submission_create
    def post(self, request: AuthenticatedRequest, slug: str, milestone_id: int) -> Response:
        data = s.SubmissionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = services.submission_create(
            user=request.user,
            product_slug=slug,
            milestone_id=int(milestone_id),
            **data.validated_data,
        )
        return Response(s.SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)


class CertificateVerifyView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [CertificateVerifyThrottle]

    @schema.certificate_verify
    def get(self, request: Request, code: str) -> Response:
        certificate = selectors.certificate_by_code(code)
        if certificate is None:
            raise CertificateNotFound()
        brief = certificate_payload(certificate, request)
        return Response(
            s.CertificateVerificationSerializer(
                {
                    "code": certificate.code,
                    "status": "revoked" if certificate.is_revoked else "valid",
                    "learner_name": certificate.learner_name,
                    "program": certificate.program_title,
                    "track": certificate.track_name,
                    "completed_at": certificate.completed_at,
                    "revoked_at": certificate.revoked_at,
                    "revoke_reason": certificate.revoke_reason,
                    "verify_url": brief["verify_url"],
                    "pdf_url": brief["pdf_url"],
                }
            ).data
        )
