"""How an email names its city: From "<program name>" at the platform's sending address, the
department's own Reply-To, and the department's schema in the provider's metadata and tags, so
that a bounce reported by the provider's webhook finds the city it belongs to. Every email
builder (portal.registry.emails, tenants.adapters) passes its message through here."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage

from tenants.models import Department

# The key (in anymail's metadata) that names the department's schema; the bounce webhook reads it.
DEPARTMENT_METADATA_KEY = "department"


def sending_address() -> str:
    """The bare address every email is sent from (DEFAULT_FROM_EMAIL without its name): the
    one the provider has verified (SPF, DKIM), whatever city the email is for."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL


def department_sender(department: Department) -> str:
    """`"<program name>" <sending address>`: the program's public name as the display name,
    on one line (a name can never add a header), quoted as RFC 5322 wants."""
    branding = getattr(department, "branding", None)
    name = " ".join(branding.display_name.split()) if branding is not None else ""
    return formataddr((name, sending_address())) if name else settings.DEFAULT_FROM_EMAIL


def department_reply_to(department: Department) -> list[str]:
    """The department's own address for answers (Program.reply_to_email), or none: replies
    then go to the sending address, which the operator's provider handles."""
    program = getattr(department, "program", None)
    address = program.reply_to_email if program is not None else ""
    return [address] if address else []


def department_envelope(message: EmailMessage, department: Department | None) -> EmailMessage:
    """Address `message` as the department's (From, Reply-To) and tag it with the department's
    schema (anymail's `metadata` and `tags`; SMTP ignores both). Platform emails (vendor staff,
    no department) keep DEFAULT_FROM_EMAIL and are tagged with the public schema."""
    if department is None or department.is_platform:
        schema = department.schema_name if department is not None else "public"
        message.from_email = settings.DEFAULT_FROM_EMAIL
    else:
        schema = department.schema_name
        message.from_email = department_sender(department)
        message.reply_to = department_reply_to(department)
    # anymail reads these attributes from any EmailMessage (allauth's included).
    setattr(message, "metadata", {DEPARTMENT_METADATA_KEY: schema})  # noqa: B010
    setattr(message, "tags", [schema])  # noqa: B010
    return message
