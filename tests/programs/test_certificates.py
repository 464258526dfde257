"""Certificates: the public page and PDF, and revoking."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from programs import services
from programs.errors import AlreadyRevoked, ProgramInvalid
from tests.accounts.factories import StaffFactory, UserFactory
from tests.programs.factories import curriculum, enrol

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate():
    c = curriculum()
    learner = UserFactory(full_name="Rohan Das")
    enrollment = enrol(learner, c.short)
    return services.certificate_issue(enrollment=enrollment, track=c.short, at=enrollment.starts_at)


def _pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_names_the_learner_program_track_and_code(client, certificate):
    response = client.get(f"/certificates/{certificate.code}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "Rohan Das" in text
    assert certificate.program_title in text
    assert "1 month track" in text
    assert certificate.code in text
    assert f"/certificates/{certificate.code}/" in text
    assert "REVOKED" not in text


def test_the_page_shows_a_valid_certificate_and_unknown_codes_are_404(client, certificate):
    page = client.get(f"/certificates/{certificate.code}/")
    missing = client.get("/certificates/0000-0000-0000-0000/")

    assert page.status_code == 200
    assert "Valid certificate" in page.content.decode()
    assert "Rohan Das" in page.content.decode()
    assert missing.status_code == 404


def test_revoking_says_so_everywhere_and_only_once(client, certificate):
    staff = StaffFactory()

    with pytest.raises(ProgramInvalid):
        services.certificate_revoke(certificate_id=certificate.pk, reason="  ", by=staff)
    services.certificate_revoke(
        certificate_id=certificate.pk, reason="Plagiarised project", by=staff
    )
    with pytest.raises(AlreadyRevoked):
        services.certificate_revoke(certificate_id=certificate.pk, reason="Again", by=staff)

    verified = client.get(f"/api/v1/certificates/{certificate.code}/").json()
    page = client.get(f"/certificates/{certificate.code}/").content.decode()
    text = _pdf_text(client.get(f"/certificates/{certificate.code}/pdf/").content)
    assert (verified["status"], verified["revoke_reason"]) == ("revoked", "Plagiarised project")
    assert "revoked" in page
    assert "Plagiarised project" in page
    assert "REVOKED" in text
    certificate.refresh_from_db()
    assert certificate.revoked_by == staff


def test_issuing_again_returns_the_same_certificate(certificate):
    enrollment = certificate.user.enrollments.get()
    again = services.certificate_issue(
        enrollment=enrollment, track=certificate.track, at=enrollment.starts_at
    )
    assert again.pk == certificate.pk
