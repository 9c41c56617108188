"""Every email to a program's requester: onboarding/email/<kind>.txt with its subject in
<kind>_subject.txt, in the language the request was made in, from the platform, sent after the
surrounding transaction commits (a rolled-back step emails nobody) and recorded in the request's
history."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from onboarding.models import ProgramRequest, ProgramRequestEvent
from portal.registry.emails import email_send
from tenants.models import Department
from tenants.services import platform_site_ensure


def platform_department() -> Department:
    """The platform's own row (public schema): the sender and link base of these emails."""
    return Department.objects.filter(schema_name="public").first() or platform_site_ensure()


def requester_email(program_request: ProgramRequest, kind: str, **context: Any) -> None:
    """Email the request's contact person about one step (`kind` names the template), after
    commit; the history records that it was sent."""
    platform = platform_department()
    full_context = {"request": program_request, "platform_url": platform.url("/"), **context}
    ProgramRequestEvent.objects.create(
        request=program_request, kind=ProgramRequestEvent.Kind.EMAILED, text=kind
    )
    transaction.on_commit(
        lambda: email_send(
            template=f"onboarding/email/{kind}",
            to=program_request.contact_email,
            language=program_request.language,
            context=full_context,
            department=platform,
            from_platform=True,
        )
    )
