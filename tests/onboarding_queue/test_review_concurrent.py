"""Two reviewers approve the same request at the same moment: two threads, two connections,
committed transactions. The row lock makes the second wait for the first and then find the
request approved: one status line, one audit entry, one email; the second is told why."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connections
from django_tenants.utils import schema_context
from onboarding import review
from onboarding.models import ProgramRequest, ProgramRequestEvent

from console.models import PlatformAuditEntry
from tests.conftest import assert_test_database
from tests.onboarding_queue.conftest import Reviewer, request_make, status_post

AGENCY = "Concurrent Springfield Police Department"


def signed_in_vendor() -> Reviewer:
    """The platform's vendor account (committed once per session) in a browser of its own: two
    of them are two reviewers clicking at once, without accounts a committed test would have
    to remove again."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tenants.demo import VENDOR_EMAIL

    with schema_context("public"):
        user = get_user_model().objects.get(email=VENDOR_EMAIL)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
    return Reviewer(client, VENDOR_EMAIL, user.pk)


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> Iterator[tuple]:
    """A NEW request and two signed-in browsers, committed; removed afterwards."""
    with django_db_blocker.unblock():
        assert_test_database()
        program_request = request_make(agency_name=AGENCY)
        try:
            yield program_request, signed_in_vendor(), signed_in_vendor()
        finally:
            with schema_context("public"):
                PlatformAuditEntry.objects.filter(
                    action="program_request", detail__request=program_request.pk
                ).delete()
                # Its history goes with it (CASCADE).
                ProgramRequest.objects.filter(agency_name=AGENCY).delete()
            connections.close_all()


def test_two_reviewers_approving_at_once_make_one_step_and_one_email(
    committed, django_db_blocker, monkeypatch
):
    program_request, alice, bob = committed
    # The audit entry is written slowly, so both steps overlap after reading the status.
    record = review.platform_audit_record

    def slow_record(**kwargs: Any) -> Any:
        time.sleep(0.3)
        return record(**kwargs)

    monkeypatch.setattr(review, "platform_audit_record", slow_record)
    start = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def approve(reviewer: Reviewer) -> None:
        try:
            start.wait()
            response = status_post(reviewer, program_request, "approved")
            answers.append((response.status_code, response.content.decode()))
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=approve, args=(who,)) for who in (alice, bob)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        codes = sorted(code for code, _page in answers)
        assert codes == [302, 400]
        (refused,) = [page for code, page in answers if code == 400]
        assert "The request is already approved: nothing changed." in refused
        with schema_context("public"):
            assert ProgramRequest.objects.get(pk=program_request.pk).status == "approved"
            events = ProgramRequestEvent.objects.filter(request=program_request)
            assert events.filter(kind="status").count() == 1
            assert events.filter(kind="emailed").count() == 1
            assert (
                PlatformAuditEntry.objects.filter(
                    action="program_request", detail__request=program_request.pk
                ).count()
                == 1
            )
        sent = [email for email in mail.outbox if email.to == ["chief@springfieldpd.gov"]]
        assert len(sent) == 1
