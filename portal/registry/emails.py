"""Every email the registry and the consoles send (allauth's account emails aside): rendered here
from a template pair in the recipient's language with the department's context, and sent
through Django's email API."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tenants.mail import department_envelope
from tenants.models import Department, current_department
from tenants.units import units_of


def email_message(
    *,
    template: str,
    to: str,
    language: str,
    context: dict[str, Any],
    department: Department | None = None,
    from_platform: bool = False,
) -> EmailMessage:
    """The email <template>.txt with the subject <template>_subject.txt (one line), rendered
    in `language` for one recipient. The context always holds the department (by default the
    current one), its branding and its portal's address. It is sent as the department's
    (tenants.mail: its program's name, its Reply-To, its schema for the bounce webhook), or,
    `from_platform`, as the platform's (an email to vendor staff about a department)."""
    department = department or current_department()
    full_context = {
        "department": department,
        "branding": getattr(department, "branding", None),
        "portal_url": department.url("/"),
        "distance_units": units_of(getattr(department, "program", None)),
        **context,
    }
    # Times in the department's own zone (a job runs in UTC): "from 9:00 p.m." is the city's
    # evening, as the investigator typed it and the owner lives it.
    zone = getattr(department, "time_zone", "") or None
    with translation.override(language), timezone.override(zone):
        subject = " ".join(render_to_string(f"{template}_subject.txt", full_context).split())
        body = render_to_string(f"{template}.txt", full_context)
        html = html_layout(
            subject=subject,
            body=body,
            language=language,
            department=None if from_platform else department,
        )
    message = EmailMultiAlternatives(subject, body, None, [to])
    message.attach_alternative(html, "text/html")
    return department_envelope(message, None if from_platform else department)


def html_layout(*, subject: str, body: str, language: str, department: Department | None) -> str:
    """The HTML alternative of an email whose plain text is `body`: the text (links made links)
    in the department's layout, its program's name and logo on its colour, or the platform's
    name for a platform email. The plain text stays the message's body."""
    branding = getattr(department, "branding", None) if department is not None else None
    if department is None or department.is_platform:
        sender_name, portal_url = "Canvass", ""
    else:
        sender_name = (
            branding.display_name_in(language)
            if branding is not None
            else department.name_in(language)
        )
        portal_url = department.url("/")
    logo_url = ""
    if branding is not None and branding.logo and department is not None:
        logo_url = department.url(branding.logo.url)
    return render_to_string(
        "emails/layout.html",
        {
            "subject": subject,
            "body": body,
            "language": language,
            "sender_name": sender_name,
            "portal_url": portal_url,
            "logo_url": logo_url,
            "primary_color": branding.primary_color if branding is not None else "#1f2937",
            "on_primary_color": branding.on_primary_color if branding is not None else "#ffffff",
        },
    )


def email_send(
    *,
    template: str,
    to: str,
    language: str,
    context: dict[str, Any],
    department: Department | None = None,
    backend: BaseEmailBackend | None = None,
    from_platform: bool = False,
) -> None:
    """Render (email_message) and send one email; through `backend` when the caller keeps a
    connection open for many."""
    message = email_message(
        template=template,
        to=to,
        language=language,
        context=context,
        department=department,
        from_platform=from_platform,
    )
    if backend is None:
        message.send()
    else:
        backend.send_messages([message])


def participant_email(*, email: str, language: str, template: str, context: dict[str, Any]) -> None:
    """Send registry/email/<template>.txt (subject in <template>_subject.txt) to one participant."""
    department = current_department()
    full_context = {"manage_url": department.url("/my/"), **context}
    if "token" in context:
        full_context["verify_url"] = department.url(f"/verify/{context['token']}/")
    email_send(
        template=f"registry/email/{template}",
        to=email,
        language=language,
        context=full_context,
    )
