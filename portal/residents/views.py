"""Resident-facing pages of a department's portal: they translate HTTP to the registry's
services and selectors."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.forms import BaseFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing.checkout import CheckoutRefused, checkout_start, portal_session_start
from billing.gateway import (
    PaymentsNotConfigured,
    StripeRefused,
    StripeUnavailable,
    payments_configured,
)
from billing.models import DevicePlan
from billing.selectors import has_billing_account, plans_offered, subscriptions_by_site
from portal.registry import geocoding, services
from portal.registry.audit import Actor
from portal.registry.forms import (
    CameraEditFormSet,
    CameraForm,
    CameraFormSet,
    SiteForm,
    is_deleted,
)
from portal.registry.models import Camera, Participant, Site
from portal.residents import self_service
from portal.residents.forms import OptOutForm
from tenants.http import DepartmentRequest, client_ip
from tenants.page_cache import public_page
from tenants.signing import LinkError

# A resident page: a page, a redirect, or a streamed file (the owner's data download).
View = Callable[..., HttpResponseBase]


class ParticipantRequest(DepartmentRequest):
    """A portal request from a signed-in resident: `participant_required` sets `participant`."""

    user: User
    participant: Participant


def participant_required(view: View) -> View:
    """Signed-in residents only; staff accounts of the department have no registry of their own."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        participant = getattr(request.user, "participant", None)
        if participant is None:
            return render(request, "portal/not_participant.html", status=403)
        participant_request = cast(ParticipantRequest, request)
        participant_request.participant = participant
        if view not in ASKS_TERMS_ITSELF and terms_outdated(participant_request):
            # New terms since the owner's consent: accepted before anything else, once.
            return redirect(
                f"{reverse('portal:terms')}?{urlencode({'next': request.get_full_path()})}"
            )
        return view(participant_request, *args, **kwargs)

    return wrapper


# Pages a participant with outdated terms may still open: the terms page itself, and the site
# form, which asks for the new terms on its own.
ASKS_TERMS_ITSELF: set[View] = set()


def asks_terms_itself(view: View) -> View:
    ASKS_TERMS_ITSELF.add(view)
    return view


def terms_outdated(request: ParticipantRequest) -> bool:
    program = request.tenant.program
    return (
        Site.objects.filter(participant=request.participant)
        .terms_outdated(program.terms_version)
        .exists()
    )


@require_safe
@public_page("PORTAL_LANDING_SECONDS")
def landing(request: DepartmentRequest) -> HttpResponse:
    """The program's front page, in the department's branding and the visitor's language."""
    return render(
        request,
        "portal/landing.html",
        {"devices_offered": plans_offered(request.tenant).exists()},
    )


def _map_context(request: DepartmentRequest) -> dict[str, object]:
    program = request.tenant.program
    return {
        "program": program,
        "map_tiles": settings.MAP_TILE_URL,
        "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        "geocoder_enabled": geocoding.enabled(program),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def site_new(request: ParticipantRequest) -> HttpResponse:
    program = request.tenant.program
    participant = request.participant
    data = request.POST if request.method == "POST" else None
    form = SiteForm(
        data,
        program=program,
        locate_by_address=True,
        initial={"contact_email": request.user.email, "kind": Site.Kind.HOME},
    )
    cameras = CameraFormSet(data, instance=Site(), prefix="cameras")
    if data is not None and all([form.is_valid(), cameras.is_valid()]):
        services.site_register(
            participant=participant,
            program=program,
            site=form.site_fields(),
            cameras=[camera.camera_fields() for camera in _kept(cameras)],
            language=get_language(),
        )
        messages.success(request, _("Your site is registered. Thank you for taking part!"))
        return redirect("portal:manage")
    return render(
        request,
        "portal/site_form.html",
        {"form": form, "cameras": cameras, "new": True, **_map_context(request)},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
@asks_terms_itself
def site_edit(request: ParticipantRequest, site_id: int) -> HttpResponse:
    program = request.tenant.program
    site = get_object_or_404(Site, pk=site_id, participant=request.participant)
    terms_changed = site.terms_version != program.terms_version
    data = request.POST if request.method == "POST" else None
    form = SiteForm(
        data, instance=site, program=program, ask_terms=terms_changed, locate_by_address=True
    )
    cameras = CameraEditFormSet(data, instance=site, prefix="cameras")
    if data is not None and all([form.is_valid(), cameras.is_valid()]):
        services.site_update(
            site=site,
            program=program,
            changes=form.site_fields(),
            cameras_changed=[
                (camera.instance if camera.instance.pk else None, camera.camera_fields())
                for camera in _kept(cameras)
                if camera.has_changed()
            ],
            cameras_deleted=[
                camera.instance for camera in cameras.deleted_forms if camera.instance.pk
            ],
            terms_accepted=bool(form.cleaned_data.get("accept_terms")),
        )
        messages.success(request, _("Your changes are saved."))
        return redirect("portal:manage")
    return render(
        request,
        "portal/site_form.html",
        {
            "form": form,
            "cameras": cameras,
            "site": site,
            "new": False,
            "terms_changed": terms_changed,
            **_map_context(request),
        },
    )


def _kept(formset: BaseFormSet[Any]) -> list[CameraForm]:
    return [camera for camera in formset.forms if camera.cleaned_data and not is_deleted(camera)]


# Pages whose forms send the owner on to Stripe (Checkout, the customer portal): the Content
# Security Policy lets those forms' redirects leave this host for Stripe's, and nowhere else.
STRIPE_FORM_TARGETS = csp_update({"form-action": ["https://checkout.stripe.com"]})
STRIPE_PORTAL_TARGETS = csp_update({"form-action": ["https://billing.stripe.com"]})


@require_safe
@STRIPE_PORTAL_TARGETS
@participant_required
def manage(request: ParticipantRequest) -> HttpResponse:
    participant = request.participant
    department = request.tenant
    sites = list(participant.sites.prefetch_related("cameras"))
    subscriptions = subscriptions_by_site(department, participant.pk)
    return render(
        request,
        "portal/manage.html",
        {
            "participant": participant,
            "sites": sites,
            "rows": [(site, subscriptions.get(site.pk)) for site in sites],
            "devices_offered": plans_offered(department).exists(),
            "billing_account": has_billing_account(department, participant.pk),
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        },
    )


class SeeOther(HttpResponseRedirect):
    """A POST answered with the page to GET next (Stripe's pages here)."""

    status_code = 303


def _participant_actor(request: ParticipantRequest) -> Actor:
    return Actor.of_participant(request.participant, client_ip(request))


def _payment_problem(request: ParticipantRequest, error: Exception) -> HttpResponse:
    """Stripe unreachable, refusing, or not configured here: a clear page, nothing written."""
    if isinstance(error, PaymentsNotConfigured):
        message, status = str(PaymentsNotConfigured.message), 503
    elif isinstance(error, StripeUnavailable):
        message, status = str(StripeUnavailable.message), 503
    else:
        message = _("The payment service refused the request: %(reason)s") % {
            "reason": getattr(error, "message", "") or _("no reason given")
        }
        status = 502
    return render(
        request,
        "portal/payment_problem.html",
        {"message": message, "not_configured": isinstance(error, PaymentsNotConfigured)},
        status=status,
    )


def _plan_chosen(value: object) -> DevicePlan | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,9}", value):
        return None
    return DevicePlan.objects.filter(pk=int(value)).first()


@require_http_methods(["GET", "HEAD", "POST"])
@STRIPE_FORM_TARGETS
@participant_required
def site_integrate(request: ParticipantRequest, site_id: int) -> HttpResponse:
    """The device plans this city offers for one of the owner's sites, what integrating means
    for their control, and the choice that sends them to Stripe Checkout to pay."""
    department = request.tenant
    site = get_object_or_404(Site, pk=site_id, participant=request.participant)
    plans = list(plans_offered(department))
    context: dict[str, object] = {
        "site": site,
        "plans": plans,
        "subscription": subscriptions_by_site(department, request.participant.pk).get(site.pk),
        "payments_configured": payments_configured(),
    }
    if request.method != "POST":
        return render(request, "portal/integrate.html", context)
    plan = _plan_chosen(request.POST.get("plan"))
    language = get_language() or "en"
    try:
        if not plans:
            raise CheckoutRefused(
                _("This department registers cameras only: it offers no integration devices.")
            )
        if plan is None:
            raise CheckoutRefused(_("This department does not offer that device plan."))
        url = checkout_start(
            actor=_participant_actor(request),
            site=site,
            plan=plan,
            department=department,
            language=language,
            success_url=department.url(
                reverse("portal:checkout_done", args=[site.pk]) + f"?lang={language}"
            ),
            cancel_url=department.url(
                reverse("portal:checkout_cancelled", args=[site.pk]) + f"?lang={language}"
            ),
        )
    except CheckoutRefused as refusal:
        return render(
            request, "portal/integrate.html", {**context, "error": refusal.message}, status=400
        )
    except (PaymentsNotConfigured, StripeUnavailable, StripeRefused) as error:
        return _payment_problem(request, error)
    return SeeOther(url)


def _in_language(request: ParticipantRequest) -> str:
    """The language the owner paid in (carried through Stripe's return URL), if the city's
    portal offers it; the portal's current language otherwise."""
    wanted = request.GET.get("lang", "")
    return wanted if wanted in request.tenant.branding.languages else get_language() or "en"


@require_safe
@participant_required
def checkout_done(request: ParticipantRequest, site_id: int) -> HttpResponse:
    """Where Stripe sends the owner after paying. Integration starts when Stripe confirms the
    payment (a webhook), never on this redirect, which anyone can open."""
    site = get_object_or_404(Site, pk=site_id, participant=request.participant)
    subscription = subscriptions_by_site(request.tenant, request.participant.pk).get(site.pk)
    with translation.override(_in_language(request)):
        return render(
            request, "portal/checkout_done.html", {"site": site, "subscription": subscription}
        )


@require_safe
@participant_required
def checkout_cancelled(request: ParticipantRequest, site_id: int) -> HttpResponse:
    site = get_object_or_404(Site, pk=site_id, participant=request.participant)
    with translation.override(_in_language(request)):
        return render(request, "portal/checkout_cancelled.html", {"site": site})


@require_POST
@participant_required
def billing_portal(request: ParticipantRequest) -> HttpResponse:
    """Stripe's customer portal: the owner's card, invoices and cancellation."""
    department = request.tenant
    try:
        url = portal_session_start(
            actor=_participant_actor(request),
            department=department,
            return_url=department.url(reverse("portal:manage")),
            language=get_language() or "en",
        )
    except CheckoutRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("portal:manage")
    except (PaymentsNotConfigured, StripeUnavailable, StripeRefused) as error:
        return _payment_problem(request, error)
    return SeeOther(url)


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
@asks_terms_itself
def terms(request: ParticipantRequest) -> HttpResponse:
    """The department's new terms, to accept once for every site registered under older ones."""
    program = request.tenant.program
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path on this portal (an open redirect otherwise; a bare word is not a path either).
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}
    ):
        next_url = reverse("portal:manage")
    if not terms_outdated(request):
        return HttpResponseRedirect(next_url)
    problem = ""
    if request.method == "POST":
        if request.POST.get("accept_terms"):
            services.terms_accept(participant=request.participant, program=program)
            messages.success(request, _("Thank you: you accepted the new terms."))
            return HttpResponseRedirect(next_url)
        problem = _("To keep your registration, accept the new terms, or leave the program.")
    return render(
        request,
        "portal/terms.html",
        {"program": program, "next": next_url, "problem": problem},
        status=400 if problem else 200,
    )


@require_safe
@participant_required
def access(request: ParticipantRequest) -> HttpResponse:
    """Every audit entry about the participant's own data: who looked, when and why; and every
    live view of their cameras (a view whose notice the department delays appears once the
    delay has passed, so its audit entries are not listed raw)."""
    participant = request.participant
    # An access whose notice a delay holds back for an open investigation shows once told; the
    # owner's data download lists the same (portal.residents.self_service).
    now = timezone.now()
    entries = self_service.owner_visible_entries(participant, now=now)
    live_views = self_service.owner_visible_live_views(participant, now=now)
    return render(request, "portal/access.html", {"entries": entries, "live_views": live_views})


@require_POST
@participant_required
def site_pause(request: ParticipantRequest, site_id: int, paused: bool) -> HttpResponse:
    site = get_object_or_404(Site, pk=site_id, participant=request.participant)
    services.site_set_paused(site=site, paused=paused)
    if paused:
        messages.success(
            request, _("%(site)s is paused: searches will not show it.") % {"site": site}
        )
    else:
        messages.success(request, _("%(site)s is active again.") % {"site": site})
    return redirect("portal:manage")


@require_POST
@participant_required
def camera_pause(request: ParticipantRequest, camera_id: int, paused: bool) -> HttpResponse:
    camera = get_object_or_404(
        Camera,
        pk=camera_id,
        site__participant=request.participant,
    )
    services.camera_set_paused(camera=camera, paused=paused)
    if paused:
        messages.success(request, _("Camera “%(camera)s” is paused.") % {"camera": camera})
    else:
        messages.success(request, _("Camera “%(camera)s” is active again.") % {"camera": camera})
    return redirect("portal:manage")


@require_POST
@participant_required
def confirm(request: ParticipantRequest) -> HttpResponse:
    participant = request.participant
    if participant.status == Participant.Status.PURGED:
        messages.error(request, _("Your registration was removed; register your site again."))
        return redirect("portal:site_new")
    services.participant_confirm(participant=participant)
    messages.success(request, _("Thank you: your registration is confirmed for another year."))
    return redirect("portal:manage")


LINK_PROBLEMS = {
    "invalid": (
        400,
        _lazy("This link is not valid. Copy the whole link from the email, or sign in."),
    ),
    "expired": (410, _lazy("This link has expired. Sign in to confirm your registration.")),
    "used": (410, _lazy("This link has already been used. Sign in to see your registration.")),
    "purged": (
        410,
        _lazy("Your registration was removed after it lapsed. Sign in to register again."),
    ),
}


@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed yearly confirmation, without signing in, once. Opening the link shows what is
    registered and a button; only the button (a POST) confirms, because mail scanners open links."""
    try:
        if request.method == "POST":
            participant = services.participant_confirm_by_link(token=token)
            return render(request, "portal/verify.html", {"participant": participant})
        participant = services.participant_by_link(token=token)
    except LinkError as error:
        status, message = LINK_PROBLEMS[error.reason]
        return render(request, "portal/verify.html", {"problem": message}, status=status)
    sites = participant.sites.prefetch_related("cameras")
    return render(
        request,
        "portal/verify.html",
        {"participant": participant, "sites": sites, "ask": True},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def leave(request: HttpRequest) -> HttpResponse:
    """Opt out: delete everything at once after one confirmation, optionally the account too."""
    if not request.user.is_authenticated:
        if request.method == "POST":
            # A second submission after the account was closed: it is already done.
            return render(request, "portal/left.html", {"already": True})
        return redirect_to_login(request.get_full_path())
    participant = getattr(request.user, "participant", None)
    if participant is None:
        return render(request, "portal/not_participant.html", status=403)
    form = OptOutForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        close_account = form.cleaned_data["close_account"]
        try:
            result = services.participant_opt_out(
                participant=participant, close_account=close_account
            )
        except services.NothingToDelete:
            messages.info(request, _("You have already left: there is nothing left to delete."))
            return redirect("portal:manage")
        if close_account:
            logout(request)
        return render(request, "portal/left.html", {"result": result})
    sites = participant.sites.prefetch_related("cameras")
    return render(request, "portal/leave.html", {"form": form, "sites": sites})


@require_safe
@participant_required
def geocode(request: ParticipantRequest) -> HttpResponse:
    """Places matching a typed address, from the department's geocoder: the site form's
    address suggestions and its map pin."""
    program = request.tenant.program
    if not geocoding.enabled(program):
        raise Http404
    body, status = geocoding.search_answer(
        program, request.GET.get("q", ""), who=f"participant:{request.participant.pk}"
    )
    return JsonResponse(body, status=status)


@require_safe
@participant_required
def geocode_reverse(request: ParticipantRequest) -> HttpResponse:
    """The address at a point clicked on the site form's map."""
    program = request.tenant.program
    if not geocoding.enabled(program):
        raise Http404
    body, status = geocoding.reverse_answer(
        program,
        request.GET.get("lat", ""),
        request.GET.get("lon", ""),
        who=f"participant:{request.participant.pk}",
    )
    return JsonResponse(body, status=status)
