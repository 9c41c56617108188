"""The public program request pages (platform site, no sign-in): the form, the live check of
a portal address, the "check your email" page and the confirmation link."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from onboarding.forms import ProgramRequestForm
from onboarding.requests import (
    confirm_link_read,
    is_confirmed,
    program_request_confirm,
    program_request_confirm_resend,
    program_request_submit,
    resend_allowed,
    subdomain_available,
    subdomain_check_allowed,
    submission_allowed,
)
from tenants.http import client_ip
from tenants.signing import LinkError

# What the "check your email" page tells the person who just submitted (nothing personal).
SENT_SESSION_KEY = "onboarding_request_sent"


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def _form_page(request: HttpRequest, form: ProgramRequestForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "base_domain": settings.CANVASS_BASE_DOMAIN}
    return render(request, "onboarding/request.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, ProgramRequestForm())
    form = ProgramRequestForm(request.POST)
    if form.is_bot:
        # Answered like a success, so that the bot learns nothing; nothing stored or sent. Its
        # address is counted: a person sending from it later is held back too.
        submission_allowed(ip=client_ip(request), email=None)
        request.session[SENT_SESSION_KEY] = {"personal": False}
        return redirect("onboarding:request_sent")
    if form.is_valid():
        email = form.cleaned_data["contact_email"]
        if not submission_allowed(ip=client_ip(request), email=email):
            form.add_error(
                None,
                _(
                    "Too many requests have been sent from this address or for this email "
                    "address. Please try again later, or write to us if you need help sooner."
                ),
            )
            return _form_page(request, form, status=429)
        try:
            program_request = program_request_submit(**form.submission(), language=_language())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session[SENT_SESSION_KEY] = {
                "personal": program_request.personal_email,
                "request": program_request.pk,
            }
            return redirect("onboarding:request_sent")
    return _form_page(request, form, status=400)


@require_safe
def request_sent(request: HttpRequest) -> HttpResponse:
    sent = request.session.get(SENT_SESSION_KEY) or {}
    return render(request, "onboarding/request_sent.html", {"personal": bool(sent.get("personal"))})


@require_POST
def request_resend(request: HttpRequest) -> HttpResponse:
    """Send the confirmation email again, for the request this browser just sent (a bot's
    honeypot submission is answered the same way, with nothing sent)."""
    sent = request.session.get(SENT_SESSION_KEY) or {}
    program_request_id = sent.get("request")
    if isinstance(program_request_id, int):
        if not resend_allowed(ip=client_ip(request), program_request_id=program_request_id):
            context = {
                "personal": bool(sent.get("personal")),
                "resend_refused": _(
                    "The email has been sent again several times already. Please wait an hour, "
                    "look in your spam folder, or send the form again with another address."
                ),
            }
            return render(request, "onboarding/request_sent.html", context, status=429)
        program_request_confirm_resend(program_request_id)
    messages.success(request, _("We have sent the email again."))
    return redirect("onboarding:request_sent")


@require_safe
def subdomain_check(request: HttpRequest) -> JsonResponse:
    """{"ok": bool, "message": "..."} for the address typed so far, in the user's language."""
    if not subdomain_check_allowed(client_ip(request)):
        return JsonResponse(
            {
                "ok": False,
                "message": _("Too many checks; the address will be checked when you send."),
            },
            status=429,
        )
    # Anything longer than an address is malformed anyway; it is not echoed back whole.
    name = request.GET.get("name", "").strip().lower()[:40]
    try:
        subdomain_available(name)
    except ValidationError as error:
        return JsonResponse({"ok": False, "message": " ".join(error.messages)})
    return JsonResponse({"ok": True, "message": _("“%(name)s” is available.") % {"name": name}})


@require_http_methods(["GET", "HEAD", "POST"])
def request_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links; only a person's POST confirms)."""
    try:
        if request.method == "POST":
            confirmation = program_request_confirm(token)
            state = "confirmed" if confirmation.confirmed_now else "already"
            program_request = confirmation.program_request
        else:
            program_request = confirm_link_read(token)
            state = "already" if is_confirmed(program_request) else "ask"
    except LinkError as error:
        expired = error.reason == "expired"
        return render(
            request,
            "onboarding/request_confirm.html",
            {"state": "expired" if expired else "invalid"},
            status=410 if expired else 400,
        )
    return render(
        request,
        "onboarding/request_confirm.html",
        {"state": state, "program_request": program_request},
    )
