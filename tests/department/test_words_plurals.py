"""Counts in words: the incident page's summary of an area notice says "sent to 1 owner",
"1 has footage" and "2 have footage" (and the Spanish singulars and plurals), never "1 have"."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from portal.department.models import NotificationRecipient
from tests.department.test_notify import incident, neighbourhood, notify  # noqa: F401

pytestmark = pytest.mark.django_db

# (owners sent to, of them with footage, of them who saw nothing) -> the summary in each language.
SUMMARIES = {
    (2, 1, 0): (
        "sent to 2 owners; 1 has footage, 0 saw nothing relevant.",
        "enviado a 2 propietarios; 1 tiene grabaciones, 0 no vieron nada relevante.",
    ),
    (2, 2, 0): (
        "sent to 2 owners; 2 have footage, 0 saw nothing relevant.",
        "enviado a 2 propietarios; 2 tienen grabaciones, 0 no vieron nada relevante.",
    ),
    (1, 0, 1): (
        "sent to 1 owner; 0 have footage, 1 saw nothing relevant.",
        "enviado a 1 propietario; 0 tienen grabaciones, 1 no vio nada relevante.",
    ),
    (2, 0, 2): (
        "sent to 2 owners; 0 have footage, 2 saw nothing relevant.",
        "enviado a 2 propietarios; 0 tienen grabaciones, 2 no vieron nada relevante.",
    ),
}


@pytest.mark.parametrize(("counts", "summaries"), SUMMARIES.items())
def test_the_area_notice_summary_counts_in_singular_and_plural(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
    django_capture_on_commit_callbacks,
    counts: tuple[int, int, int],
    summaries: tuple[str, str],
):
    investigator, case = incident
    notify(investigator, case, django_capture_on_commit_callbacks)
    sent, with_footage, nothing = counts
    with schema_context("concord"):
        recipients = list(NotificationRecipient.objects.order_by("pk"))
        assert len(recipients) == 2
        for index, recipient in enumerate(recipients):
            if index >= sent:
                recipient.sent_at = None
                recipient.answer = ""
            elif index < with_footage:
                recipient.answer = "has_footage"
            elif index < with_footage + nothing:
                recipient.answer = "nothing"
            else:
                recipient.answer = ""
            recipient.save(update_fields=["sent_at", "answer"])
    english, spanish = summaries
    page = investigator.client.get(f"/department/incidents/{case.pk}/").content.decode()
    assert english in page
    assert " 1 have " not in page and "1 owners" not in page
    investigator.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    page = investigator.client.get(f"/department/incidents/{case.pk}/").content.decode()
    assert spanish in page
