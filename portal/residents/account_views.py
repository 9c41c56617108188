"""A resident's self-service pages: their account (email, password, language, notices), the
download of everything the department holds about them, the notices and footage requests they
received with their answers, and each department's privacy and contact pages. They translate
HTTP to portal.residents.self_service and the department's answer service."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing.selectors import plans_offered
from portal.access_notices.selectors import frequency_of
from portal.department.models import NotificationRecipient
from portal.department.services import AnswerFinal, answer_is_final, notification_answer
from portal.department.tasks import answer_token
from portal.registry.audit import Actor
from portal.residents import self_service
from portal.residents.account_forms import AnswerChangeForm, PreferencesForm
from portal.residents.views import ParticipantRequest, participant_required
from tenants.http import DepartmentRequest, client_ip


def _actor(request: ParticipantRequest) -> Actor:
    return Actor.of_participant(request.participant, client_ip(request))


def _languages(request: DepartmentRequest) -> list[tuple[str, str]]:
    enabled = request.tenant.branding.languages
    return [(code, str(label)) for code, label in settings.LANGUAGES if code in enabled]


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def account(request: ParticipantRequest) -> HttpResponse:
    """The resident's account: their sign-in email and password (allauth's pages), the language
    the department writes to them in, how they hear of access and of area notices, and the
    download of their data."""
    participant = request.participant
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        languages=_languages(request),
        initial={
            "language": participant.language,
            "access_notices": frequency_of(participant),
            "area_notices": "yes" if participant.area_notices else "no",
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changed = self_service.account_preferences_set(
            actor=_actor(request),
            participant=participant,
            language=data["language"],
            access_notices=data["access_notices"],
            area_notices=data["area_notices"],
        )
        # The page answers in the language just chosen, and keeps it (Django's language cookie).
        translation.activate(data["language"])
        if changed:
            messages.success(request, _("Your preferences are saved."))
        else:
            messages.info(request, _("Nothing had changed; nothing was saved."))
        response = redirect("portal:account")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            data["language"],
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response
    return render(
        request,
        "portal/account.html",
        {
            "form": form,
            "participant": participant,
            "devices_offered": plans_offered(request.tenant).exists(),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_safe
@participant_required
def data_download(request: ParticipantRequest, file_format: str) -> StreamingHttpResponse:
    """Everything the department holds about the resident, as a file (recorded in the audit
    trail, then streamed record by record)."""
    data = self_service.owner_data_export(
        actor=_actor(request), participant=request.participant, file_format=file_format
    )
    stamp = timezone.localdate().isoformat()
    if file_format == "json":
        response = StreamingHttpResponse(
            self_service.json_chunks(data), content_type="application/json; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(
            self_service.csv_chunks(data), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = (
        f'attachment; filename="my-registry-data-{stamp}.{file_format}"'
    )
    return response


def _requests_page(
    request: ParticipantRequest, *, problem: str = "", status: int = 200
) -> HttpResponse:
    department = request.tenant
    rows = []
    for recipient in self_service.requests_received(request.participant):
        final = answer_is_final(recipient)
        rows.append(
            {
                "recipient": recipient,
                "notification": recipient.notification,
                "incident": recipient.notification.incident,
                "clips": list(recipient.clips.all()),
                "final": final,
                # Footage goes through the request's own answer page, by a fresh link.
                "upload_url": (
                    department.url(f"/answer/{answer_token(recipient)}/")
                    if recipient.answer == NotificationRecipient.Answer.HAS_FOOTAGE and not final
                    else ""
                ),
            }
        )
    return render(
        request, "portal/requests.html", {"rows": rows, "problem": problem}, status=status
    )


@require_safe
@participant_required
def requests_received(request: ParticipantRequest) -> HttpResponse:
    """The area notices and footage requests the resident received, with their answers, which
    they may change until the department downloads the footage they sent."""
    return _requests_page(request)


@require_POST
@participant_required
def answer_change(request: ParticipantRequest, recipient_id: int) -> HttpResponse:
    recipient = get_object_or_404(
        NotificationRecipient, pk=recipient_id, participant=request.participant
    )
    form = AnswerChangeForm(request.POST)
    if not form.is_valid():
        return _requests_page(request, problem=_("Choose one of the two answers."), status=400)
    first = not recipient.answer
    try:
        notification_answer(
            recipient=recipient, answer=form.cleaned_data["answer"], actor=_actor(request)
        )
    except AnswerFinal as refusal:
        return _requests_page(request, problem=refusal.message, status=409)
    messages.success(
        request, _("Thank you for your answer.") if first else _("Your answer is changed.")
    )
    return redirect("portal:requests")


@require_safe
def privacy(request: DepartmentRequest) -> HttpResponse:
    """The department's privacy notice and the program's terms (its own words when it wrote
    them, what the system itself does otherwise)."""
    branding = request.tenant.branding
    program = request.tenant.program
    return render(
        request,
        "portal/privacy.html",
        {
            "privacy_text": branding.privacy_text(get_language() or "en"),
            "program": program,
            "devices_offered": plans_offered(request.tenant).exists(),
        },
    )


@require_safe
def contact(request: DepartmentRequest) -> HttpResponse:
    """How to reach the department about the program: its own words, phone and email, or its
    reply-to address when it gave nothing else."""
    branding = request.tenant.branding
    return render(
        request,
        "portal/contact.html",
        {
            "contact_text": branding.contact_text(get_language() or "en"),
            "contact_phone": branding.contact_phone,
            "contact_email": branding.contact_email or request.tenant.program.reply_to_email,
        },
    )
