"""The program requests' queue in templates: the navigation's count of new requests
(`{% new_program_requests as count %}`) and a status's label (`event.to_status|request_status`)."""

from __future__ import annotations

from django import template
from onboarding.models import ProgramRequest
from onboarding.review import program_requests_new_count

register = template.Library()


@register.simple_tag
def new_program_requests() -> int:
    return program_requests_new_count()


@register.filter
def request_status(status: str) -> str:
    """The label of a status a history line names (its value when it is none of them)."""
    if status in ProgramRequest.Status.values:
        return str(ProgramRequest.Status(status).label)
    return status or "—"
