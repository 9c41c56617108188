"""Reads of the registry shared by pages, exports and jobs."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.models import Participant, Site


def sites_searchable() -> QuerySet[Site]:
    """The one definition of a site that staff searches may show: not paused by its owner, and
    its owner's registration confirmed (neither lapsed nor removed)."""
    return Site.objects.filter(paused=False, participant__status=Participant.Status.ACTIVE)
