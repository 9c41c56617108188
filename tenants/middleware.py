"""Request routing by host: which department (schema) a request belongs to, and its language."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Department, Domain


class DepartmentMiddleware(TenantMainMiddleware):
    """django-tenants' host routing, loading branding and program in the same query."""

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Department:
        domain = domain_model.objects.select_related(
            "tenant", "tenant__branding", "tenant__program"
        ).get(domain=hostname)
        return domain.tenant

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        response = super().process_request(request)
        tenant = getattr(request, "tenant", None)
        if response is None and tenant is not None and tenant.status == Department.Status.SUSPENDED:
            # A suspended department's portal is closed to everyone; its data stays intact.
            return HttpResponse(
                render_to_string("tenants/suspended.html", {"department": tenant}), status=503
            )
        return response


class DepartmentLanguageMiddleware:
    """Keep each portal to the languages its department enabled (after LocaleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        branding = getattr(getattr(request, "tenant", None), "branding", None)
        if branding is not None and translation.get_language() not in branding.languages:
            translation.activate(branding.default_language)
            request.LANGUAGE_CODE = branding.default_language
        return self.get_response(request)
