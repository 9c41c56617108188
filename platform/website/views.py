"""The platform site's public pages (no sign-in): what Canvass is, pricing, security,
accessibility and the documentation; and the language switch every page of the site carries."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from billing import license_pricing
from billing.selectors import plans_on_sale
from website.cache import public_page
from website.documents import document_render, documents


@require_safe
@public_page("WEBSITE_PAGE_SECONDS")
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "website/home.html")


@require_safe
@public_page("WEBSITE_PRICING_SECONDS")
def pricing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "website/pricing.html",
        {
            # Read at each rendering: the price list is the module's, not a copy taken at import.
            "tiers": license_pricing.LICENSE_TIERS,
            "currency": license_pricing.LICENSE_CURRENCY,
            "plans": list(plans_on_sale()),
        },
    )


@require_safe
@public_page("WEBSITE_PAGE_SECONDS")
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "website/security.html")


@require_safe
@public_page("WEBSITE_PAGE_SECONDS")
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "website/accessibility.html")


@require_safe
@public_page("WEBSITE_PAGE_SECONDS")
def docs_index(request: HttpRequest) -> HttpResponse:
    return render(request, "website/docs_index.html", {"documents": documents()})


@require_safe
@public_page("WEBSITE_PAGE_SECONDS")
def document(request: HttpRequest, slug: str) -> HttpResponse:
    rendered = document_render(slug)
    if rendered is None:
        raise Http404("No such document")
    return render(
        request, "website/document.html", {"rendered": rendered, "documents": documents()}
    )


@require_safe
@never_cache
def language(request: HttpRequest) -> HttpResponse:
    """The language switch: a GET form (the kept pages carry no CSRF token) that sets Django's
    language cookie, as set_language does, and returns to the page it came from."""
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    code = request.GET.get("language", "")
    if code in dict(settings.LANGUAGES) and check_for_language(code):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response
