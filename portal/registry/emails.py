"""Every email the registry and the consoles send (allauth's account emails aside): rendered here
from a template pair in the recipient's language with the department's context, and sent
through Django's email API."""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass
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


# What a filled-in value may hold: the characters HTML escaping, urlize and URL quoting all leave
# as they are (a signed token's), so one substitution is right in the text and in the HTML.
FILL_SAFE = re.compile(r"[A-Za-z0-9_:.~-]+")


@dataclass(frozen=True)
class EmailForm:
    """One email rendered once (email_message) for every recipient who reads it in one
    language, with a blank (`blank`, a unique word standing in for one context value) filled
    per recipient by `fill`: rendering a template per copy costs far more than the copy."""

    message: EmailMultiAlternatives
    blank: str

    def fill(self, *, to: str, value: str) -> EmailMultiAlternatives:
        """The email for `to`, the blank replaced by `value` in the text and the HTML: the same
        email email_message renders with `value` in place of the blank."""
        if not FILL_SAFE.fullmatch(value):
            raise ValueError(f"not a value an email form can fill in: {value!r}")
        filled = copy.copy(self.message)
        filled.to = [to]
        filled.body = self.message.body.replace(self.blank, value)
        filled.alternatives = []
        for content, mimetype in self.message.alternatives:
            filled.attach_alternative(str(content).replace(self.blank, value), mimetype)
        return filled


def email_form(
    *,
    template: str,
    language: str,
    context: dict[str, Any],
    blank_in: str,
    department: Department | None = None,
) -> EmailForm:
    """The email <template> (as email_message) in `language` with the context value `blank_in`
    (a string) left blank where its FILL_SAFE part would go: `context[blank_in]` is rendered
    with a unique word in place of "{}" (e.g. "https://city.example/answer/{}/"). Raises
    ValueError when the template does not show the blank in both parts, or in the subject."""
    blank = f"canvassblank{secrets.token_hex(8)}"
    message = email_message(
        template=template,
        to="",
        language=language,
        context={**context, blank_in: context[blank_in].format(blank)},
        department=department,
    )
    assert isinstance(message, EmailMultiAlternatives)
    parts = [message.body, *(str(content) for content, _mimetype in message.alternatives)]
    if blank in message.subject or not all(blank in part for part in parts):
        raise ValueError(f"{template} shows no {blank_in} in the text or the HTML of its body")
    return EmailForm(message=message, blank=blank)


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
