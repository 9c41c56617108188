"""Notes: a reviewer's line in the request's history and the platform audit log, never emailed."""

from __future__ import annotations

import pytest
from django.core import mail
from django_tenants.utils import schema_context
from onboarding.models import ProgramRequestEvent

from console.models import PlatformAuditEntry
from tests.onboarding_queue.conftest import rows_written

pytestmark = pytest.mark.django_db


def test_a_note_is_kept_in_the_history_and_audited_and_not_emailed(
    alice, make_request, django_capture_on_commit_callbacks
):
    program_request = make_request()

    with django_capture_on_commit_callbacks(execute=True):
        response = alice.client.post(
            f"/console/requests/{program_request.pk}/notes/",
            {"text": "  The chief called: budget approved by council in March.  "},
        )

    assert response.status_code == 302
    with schema_context("public"):
        note = ProgramRequestEvent.objects.get(request=program_request)
        assert note.kind == ProgramRequestEvent.Kind.NOTE
        assert note.text == "The chief called: budget approved by council in March."
        assert note.actor.email == alice.email
        entry = PlatformAuditEntry.objects.get(action="program_request")
        assert entry.detail == {"what": "note", "request": program_request.pk}
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "Write the note first."),
        ("   ", "Write the note first."),
        ("x" * 2001, "at most 2000 characters"),
        ("a\x00b", "Null characters are not allowed."),
    ],
)
def test_a_bad_note_is_refused_and_nothing_is_written(alice, make_request, text, said):
    program_request = make_request()
    before = rows_written()

    response = alice.client.post(f"/console/requests/{program_request.pk}/notes/", {"text": text})

    assert response.status_code == 400
    assert said in response.content.decode()
    assert rows_written() == before
