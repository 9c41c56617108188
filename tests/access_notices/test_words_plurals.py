"""A delay of one day reads "delayed 1 day" ("1 día"), and longer ones "delayed 2 days"."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.access_notices.helpers import incident_open
from tests.access_notices.test_delays import delay_post, investigator  # noqa: F401

pytestmark = pytest.mark.django_db

DELAYS = {
    ("en", 1): "Notices are delayed 1 day, until",
    ("en", 2): "Notices are delayed 2 days, until",
    ("es", 1): "Los avisos están retrasados 1 día, hasta el",
    ("es", 2): "Los avisos están retrasados 2 días, hasta el",
}


@pytest.mark.parametrize(("language", "days"), DELAYS)
def test_the_delay_counts_its_days_in_singular_and_plural(
    investigator,  # noqa: F811
    language: str,
    days: int,
):
    incident = incident_open("concord", investigator.email)
    assert delay_post(investigator, incident, days).status_code in {200, 302}
    investigator.client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = investigator.client.get(f"/department/notices/incidents/{incident.pk}/")
    assert DELAYS[language, days] in page.content.decode()
