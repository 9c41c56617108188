"""The email providers' tracking webhooks (django-anymail's views, under /anymail/ on the
platform's host): every provider anymail knows, protected by ANYMAIL["WEBHOOK_SECRET"] (HTTP
basic auth) and the provider's own signature where it has one. A payload anymail cannot parse
is answered 400, as a failed check is, never 500 (which the provider would retry for days);
what the events mean for the cities is portal.registry.bounces."""

from __future__ import annotations

from typing import Any

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.urls import urlpatterns as anymail_urlpatterns
from django.http import HttpRequest
from django.urls import URLPattern


class MalformedPayload(AnymailWebhookValidationFailure):
    """The body is not the provider's event format (bad JSON, a missing field)."""


def _parsing_or_400(view_class: type[Any]) -> type[Any]:
    """anymail's view, with its parser's failures turned into a 400 (a SuspiciousOperation);
    failures after parsing (the database) stay 500s, so the provider sends the event again."""

    def parse_events(self: Any, request: HttpRequest) -> list[Any]:
        try:
            return list(view_class.parse_events(self, request))
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            raise MalformedPayload(
                f"Malformed {view_class.esp_name} webhook payload ({type(error).__name__})"
            ) from error

    return type(view_class.__name__, (view_class,), {"parse_events": parse_events})


def tracking_urlpatterns() -> list[URLPattern]:
    """anymail's tracking webhooks (not its inbound ones: Canvass receives no mail)."""
    patterns = []
    for pattern in anymail_urlpatterns:
        if not isinstance(pattern, URLPattern) or "inbound" in (pattern.name or ""):
            continue
        # as_view() keeps the class and its arguments on the function it returns.
        view_class = getattr(pattern.callback, "view_class")  # noqa: B009
        initkwargs = getattr(pattern.callback, "view_initkwargs")  # noqa: B009
        view = _parsing_or_400(view_class).as_view(**initkwargs)
        patterns.append(URLPattern(pattern.pattern, view, pattern.default_args, pattern.name))
    return patterns
