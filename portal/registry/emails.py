"""Every email the registry and the consoles send (allauth's account emails aside): rendered here
from a template pair in the recipient's language with the department's context, and sent
through Django's email API."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from email.message import Message
from email.utils import formatdate, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, forbid_multi_line_headers
from django.core.mail.utils import DNS_NAME
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
class MimeForm:
    """The MIME of an email form (what Django's EmailMessage.message() builds from it, and an
    SMTP backend sends), built once: each copy's is this one with the blank replaced in each
    part and its own To, Date and Message-ID, instead of the subject, sender and parts encoded
    again for every copy (most of what handing an email to a backend costs). Shared, never
    changed."""

    root: Message
    parts: tuple[Message, ...]
    blank: str
    # Where the headers a copy sets itself are in the root's header list.
    to_at: int
    date_at: int
    message_id_at: int
    # Of each line holding the blank, in any part: its length in bytes and how many blanks
    # it holds. Filled in, no line may pass the length past which Django encodes a part as
    # quoted-printable (a different MIME from this one's).
    blank_lines: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, message: EmailMultiAlternatives, blank: str) -> MimeForm | None:
        """`message`'s MIME as a form, or None when it is not the plain shape this fills in
        (a text part and alternatives, each sent as it is: 7 or 8 bit, no attachment, no
        header of its own)."""
        if message.attachments or message.extra_headers or message.cc:
            return None
        root = message.message()
        parts = root.get_payload()
        names = [name.lower() for name, _value in headers_of(root)]
        if (
            not root.is_multipart()
            or len(parts) != 1 + len(message.alternatives)
            or any(part.is_multipart() for part in parts)
            or any(part["Content-Transfer-Encoding"] not in {"7bit", "8bit"} for part in parts)
            or any(names.count(name) != 1 for name in ("to", "date", "message-id"))
        ):
            return None
        texts = [message.body, *(str(content) for content, _mimetype in message.alternatives)]
        blank_lines = tuple(
            (len(line.encode(errors="surrogateescape")), line.count(blank))
            for text in texts
            for line in text.splitlines()
            if blank in line
        )
        return cls(
            root=root,
            parts=tuple(parts),
            blank=blank,
            to_at=names.index("to"),
            date_at=names.index("date"),
            message_id_at=names.index("message-id"),
            blank_lines=blank_lines,
        )

    def fits(self, value: str) -> bool:
        """Whether every part filled in with `value` is still sent as it is."""
        longer = len(value) - len(self.blank)
        return all(
            length + count * longer <= RFC5322_EMAIL_LINE_LENGTH_LIMIT
            for length, count in self.blank_lines
        )

    def message(self, *, to: list[str], value: str, encoding: str) -> Message:
        """The MIME of the copy for `to` with `value` in the blank, as Django builds it: the
        To, Date and Message-ID headers made the way EmailMessage.message() makes them."""
        headers = headers_of(self.root)
        for at, name, header in (
            (self.to_at, "To", ", ".join(str(address) for address in to)),
            (self.date_at, "Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
            (self.message_id_at, "Message-ID", make_msgid(domain=str(DNS_NAME))),
        ):
            headers[at] = self.root.policy.header_store_parse(
                *forbid_multi_line_headers(name, header, encoding)
            )
        parts = [
            mime_copy(
                part,
                _headers=headers_of(part),
                _payload=vars(part)["_payload"].replace(self.blank, value),
            )
            for part in self.parts
        ]
        return mime_copy(self.root, _headers=headers, _payload=parts)


# email.message.Message keeps its headers, in order, in `_headers`, and its content as it is
# written out in `_payload` (a part's non-ASCII bytes as surrogates: the public get_payload()
# decodes them, set_payload() would not encode them back).
def headers_of(message: Message) -> list[tuple[str, str]]:
    """A list of `message`'s headers of its own."""
    return list(vars(message)["_headers"])


def mime_copy(template: Message, **state: object) -> Message:
    """A new MIME object like `template` (its class, policy, charset) with `state` in place of
    its own (`_headers`, `_payload`). (copy.copy does the same through __reduce_ex__, at about
    five times the cost.)"""
    copied = template.__class__.__new__(template.__class__)
    copied.__dict__.update(vars(template), defects=[], **state)
    return copied


@dataclass(frozen=True)
class Filling:
    """How a FilledEmail was filled in: the form's MIME, the value in the blank, and what the
    email held then (FilledEmail.as_filled). Never changed: a copy of the email shares it."""

    mime: MimeForm | None
    value: str
    as_filled: tuple[object, ...]

    def __copy__(self) -> Filling:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Filling:
        return self


class FilledEmail(EmailMultiAlternatives):
    """An email EmailForm.fill made: the form's email with the blank filled in. Its MIME comes
    from the form's (MimeForm) as long as the email is as filled in; changed since, or filled
    with a value that would make a line too long to send as it is, it is built as any email."""

    filling: Filling

    def as_filled(self) -> tuple[object, ...]:
        """What the MIME form stands for, besides the To address."""
        return (
            self.subject,
            self.body,
            tuple(self.alternatives),
            self.from_email,
            tuple(self.cc),
            tuple(self.reply_to),
            tuple(self.attachments),
            tuple(self.extra_headers.items()),
            self.encoding,
            self.content_subtype,
            self.alternative_subtype,
        )

    def message(self) -> Any:
        filling = self.filling
        form = filling.mime
        if form is None or self.as_filled() != filling.as_filled or not form.fits(filling.value):
            return super().message()
        return form.message(
            to=self.to, value=filling.value, encoding=self.encoding or settings.DEFAULT_CHARSET
        )


@dataclass(frozen=True)
class EmailForm:
    """One email rendered once (email_message) for every recipient who reads it in one
    language, with a blank (`blank`, a unique word standing in for one context value) filled
    per recipient by `fill`: rendering a template per copy costs far more than the copy, and
    so does building its MIME (`mime`, built once)."""

    message: EmailMultiAlternatives
    blank: str
    mime: MimeForm | None = None

    def fill(self, *, to: str, value: str) -> EmailMultiAlternatives:
        """The email for `to`, the blank replaced by `value` in the text and the HTML: the same
        email email_message renders with `value` in place of the blank."""
        if not FILL_SAFE.fullmatch(value):
            raise ValueError(f"not a value an email form can fill in: {value!r}")
        # Every attribute of the form's email (the envelope's metadata and tags too), as a
        # FilledEmail.
        filled = FilledEmail.__new__(FilledEmail)
        filled.__dict__.update(self.message.__dict__)
        filled.to = [to]
        filled.body = self.message.body.replace(self.blank, value)
        filled.alternatives = []
        for content, mimetype in self.message.alternatives:
            filled.attach_alternative(str(content).replace(self.blank, value), mimetype)
        filled.filling = Filling(mime=self.mime, value=value, as_filled=filled.as_filled())
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
    return EmailForm(message=message, blank=blank, mime=MimeForm.of(message, blank))


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
