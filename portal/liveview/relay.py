"""Where the media relay answers for a city's host (settings.MEDIA_RELAY_URL); None when live
view is off."""

from __future__ import annotations

from django.conf import settings


def relay_url(host: str) -> str | None:
    return getattr(settings, "MEDIA_RELAY_URL", "").format(host=host) or None
