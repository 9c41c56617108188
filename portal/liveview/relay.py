"""Where browsers reach the media relay for a city's host."""

from django.conf import settings


def relay_url(host: str) -> str | None:
    return getattr(settings, "MEDIA_RELAY_URL", "").format(host=host) or None
