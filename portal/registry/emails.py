"""Emails to participants, in their own language, through Django's email API."""

from __future__ import annotations

from typing import Any

from django.core.mail import send_mail
from django.db import connection
from django.template.loader import render_to_string
from django.utils import translation


def participant_email(*, email: str, language: str, template: str, context: dict[str, Any]) -> None:
    """Send registry/email/<template>.txt (subject in <template>_subject.txt) to one participant."""
    department = connection.tenant
    full_context = {
        "department": department,
        "branding": getattr(department, "branding", None),
        "portal_url": department.url("/"),
        "manage_url": department.url("/my/"),
        **context,
    }
    if "token" in context:
        full_context["verify_url"] = department.url(f"/verify/{context['token']}/")
    with translation.override(language):
        subject = render_to_string(f"registry/email/{template}_subject.txt", full_context)
        body = render_to_string(f"registry/email/{template}.txt", full_context)
    send_mail(" ".join(subject.split()), body, None, [email])
