"""Cameras described in plain sentences for their owner ("“Porch” faces north and sees the
street; it keeps recordings for 30 days and records when it sees motion."), never in codes."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from portal.registry.models import Camera, Site
from portal.residents.templatetags.portal import phone
from tenants.templatetags.words import before_full_stop

register = template.Library()


def words_list(items: Sequence[str]) -> str:
    """Items joined as a sentence joins them: "a", "a and b", "a, b, and c"."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return _("%(first)s and %(last)s") % {"first": items[0], "last": items[1]}
    return _("%(first)s, and %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


# Small counts at the start of a sentence are written in words ("Two cameras."), as people say them.
COUNT_WORDS = {
    2: pgettext_lazy("sentence start", "Two"),
    3: pgettext_lazy("sentence start", "Three"),
    4: pgettext_lazy("sentence start", "Four"),
    5: pgettext_lazy("sentence start", "Five"),
    6: pgettext_lazy("sentence start", "Six"),
    7: pgettext_lazy("sentence start", "Seven"),
    8: pgettext_lazy("sentence start", "Eight"),
    9: pgettext_lazy("sentence start", "Nine"),
    10: pgettext_lazy("sentence start", "Ten"),
}


@register.filter
def cameras_count(cameras: Sequence[Camera]) -> str:
    """How many cameras a site has, as a sentence: "One camera.", "Two cameras.", "12 cameras."."""
    total = len(cameras)
    if total == 1:
        return _("One camera.")
    return ngettext("%(count)s camera.", "%(count)s cameras.", total) % {
        "count": COUNT_WORDS.get(total, total)
    }


@register.filter
def camera_sentence(camera: Camera) -> str:
    """Which way one camera looks, what it sees, how long it keeps video and when it records."""
    values = {
        "label": camera.label,
        "direction": camera.facing,
        "sees": words_list(camera.sees_phrases()),
        "days": camera.retention_days,
    }
    if camera.recording == Camera.Recording.CONTINUOUS:
        sentence = ngettext(
            "“%(label)s” faces %(direction)s and sees %(sees)s; it keeps recordings for "
            "%(days)s day and records all the time.",
            "“%(label)s” faces %(direction)s and sees %(sees)s; it keeps recordings for "
            "%(days)s days and records all the time.",
            camera.retention_days,
        )
    else:
        sentence = ngettext(
            "“%(label)s” faces %(direction)s and sees %(sees)s; it keeps recordings for "
            "%(days)s day and records when it sees motion.",
            "“%(label)s” faces %(direction)s and sees %(sees)s; it keeps recordings for "
            "%(days)s days and records when it sees motion.",
            camera.retention_days,
        )
    sentence = sentence % values
    if camera.night_vision:
        sentence += " " + _("It sees at night.")
    if camera.paused:
        sentence += " " + _("It is paused: searches do not show it.")
    return sentence


@register.filter
def participation_sentence(site: Site) -> str:
    """What taking part means for this site, and whether searches show it."""
    if site.participation == Site.Participation.INTEGRATED:
        sentence = _(
            "Integrated: your device can share this site's video with the department during "
            "emergencies, as you choose."
        )
    else:
        sentence = _(
            "Registered: the department knows where your cameras are and may ask you for "
            "footage; it cannot see or reach your cameras."
        )
    if site.paused:
        sentence += " " + _("Paused: searches do not show this site.")
    return sentence


@register.filter
def contact_sentence(site: Site) -> str:
    """How the department reaches the site's contact: "The department calls Ada at …"."""
    values = {
        "name": site.contact_name,
        "phone": phone(site.contact_phone),
        "email": site.contact_email,
        "hours": before_full_stop(site.contact_hours),
    }
    if site.contact_method == Site.ContactMethod.EMAIL:
        sentence = _("The department emails %(name)s at %(email)s.")
    elif site.contact_method == Site.ContactMethod.TEXT:
        sentence = _("The department texts %(name)s at %(phone)s.")
    else:
        sentence = _("The department calls %(name)s at %(phone)s.")
    sentence = sentence % values
    if site.contact_hours:
        sentence += " " + _("Best time: %(hours)s.") % values
    return sentence
