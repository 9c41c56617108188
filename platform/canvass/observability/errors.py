"""Errors to Sentry (or any server speaking its protocol), only when SENTRY_DSN is set, with
personal data removed before an event leaves the process: no cookies, no authorization or
address headers, no request bodies, no query strings (signed links), no user but their id,
and no email or IP address anywhere in the event's text. Called from the settings."""

from __future__ import annotations

from typing import Any, cast

from sentry_sdk.types import Event, Hint

from canvass.observability.logs import scrub_all

FILTERED = "[Filtered]"
# Request headers that identify or authenticate a person, or carry their address.
PERSONAL_HEADERS = {
    "authorization",
    "cookie",
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "true-client-ip",
    "cf-connecting-ip",
    "proxy-authorization",
    "x-csrftoken",
}


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> bool:
    """Start the Sentry SDK with the Django and Celery integrations; False without a DSN."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        # Form bodies hold residents' addresses and contact details.
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=event_scrub,
        before_send_transaction=event_scrub,
        before_breadcrumb=breadcrumb_scrub,
    )
    return True


def event_scrub(event: Event, hint: Hint | None = None) -> Event:
    """The event without personal data (Sentry's before_send)."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("data", None)
        request.pop("env", None)  # REMOTE_ADDR, SERVER_NAME
        if request.get("query_string"):
            request["query_string"] = FILTERED
        url = request.get("url")
        if isinstance(url, str):
            request["url"] = url.split("?", 1)[0]
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: (FILTERED if name.lower() in PERSONAL_HEADERS else value)
                for name, value in headers.items()
            }
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    return cast(Event, scrub_all(event))


def breadcrumb_scrub(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    return scrub_all(crumb)
