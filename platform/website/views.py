"""The platform site's public pages (no sign-in): what Canvass is, pricing, security,
accessibility and the documentation; and the language switch every page of the site carries."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from billing import license_pricing
from billing.selectors import plans_on_sale
from tenants.page_cache import public_page
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
