"""The department console's navigation, rendered once per city, language and set of rights in
each process: every console page shows the same links twice (the desk's row and the phone's
menu), and rendering them (a dozen URLs reversed, as many strings translated) cost each page
more than most views' own work."""

from __future__ import annotations

import threading

from django import template
from django.template import Context
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()

NAV_TEMPLATE = "department/_nav_links.html"
# Cities, languages and the roles' sets of rights: a few hundred at most; past it, start again.
_KEPT_MAX = 1000
_kept: dict[tuple[str, str, frozenset[str] | None], SafeString] = {}
_kept_lock = threading.Lock()


@register.simple_tag(takes_context=True)
def console_nav(context: Context) -> SafeString:
    """department/_nav_links.html for this request. The links depend only on what the staff
    member may do (`request.staff.capabilities`: the template reads nothing else of them), the
    language and the city (a city may override the template, CITY_TEMPLATES_DIR)."""
    request = context.get("request")
    staff = getattr(request, "staff", None)
    tenant = getattr(request, "tenant", None)
    key = (
        getattr(tenant, "schema_name", ""),
        get_language() or "",
        staff.capabilities if staff is not None else None,
    )
    links = _kept.get(key)
    if links is None:
        assert context.template is not None
        links = SafeString(context.template.engine.get_template(NAV_TEMPLATE).render(context))
        with _kept_lock:
            if len(_kept) >= _KEPT_MAX:
                _kept.clear()
            _kept[key] = links
    return links
