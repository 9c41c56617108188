"""The email provider's tracking webhook (django-anymail's view for EMAIL_PROVIDER, at
/anymail/<provider>/tracking/ on the platform's host; any other provider's address is a 404),
protected by ANYMAIL["WEBHOOK_SECRET"] (HTTP basic auth) and the provider's own signature where
it has one. A payload anymail cannot parse is answered 400, as a failed check is, never 500
(which the provider would retry for days); what the events mean for the cities is
portal.registry.bounces."""

from __future__ import annotations

import functools
from typing import Any

from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure
from anymail.urls import urlpatterns as anymail_urlpatterns
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View

# What a body that is not the provider's event format raises inside anymail's views (bad JSON,
# a missing or mistyped field, an SNS envelope that does not parse).
MALFORMED = (ValueError, KeyError, TypeError, AttributeError, IndexError, AnymailAPIError)


class MalformedPayload(AnymailWebhookValidationFailure):
    """The body is not the provider's event format. A SuspiciousOperation: Django answers 400."""


@functools.cache
def tracking_views() -> dict[str, Any]:
    """anymail's tracking view class by provider ("postmark", "amazon_ses", ...: the names
    EMAIL_PROVIDER takes), each answering 400 to a payload it cannot parse."""
    views = {}
    for pattern in anymail_urlpatterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLPattern) and route.endswith("/tracking/"):
            # as_view() keeps the class on the function it returns.
            view_class = getattr(pattern.callback, "view_class")  # noqa: B009
            tolerant: type[View] = type(view_class.__name__, (_ParsingOr400, view_class), {})
            views[route.split("/")[0]] = tolerant.as_view()
    return views


class _ParsingOr400(View):
    """Mixed in before anymail's view: failures to read the body become a 400. Failures after
    it was read (the database) stay 500s, so the provider sends the event again."""

    esp_name: str

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        anymail_post = getattr(super(), "post")  # noqa: B009 (anymail's view, untyped)
        try:
            response: HttpResponse = anymail_post(request, *args, **kwargs)
        except MALFORMED as error:
            raise MalformedPayload(
                f"Malformed {self.esp_name} webhook payload ({type(error).__name__})"
            ) from error
        return response


@csrf_exempt
def email_webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """The configured provider's tracking webhook; any other provider's address is a 404."""
    view = tracking_views().get(provider)
    if view is None or provider != settings.EMAIL_PROVIDER:
        raise Http404
    response: HttpResponse = view(request)
    return response
