"""The resident's count of sites in words: one site is "your registered site" ("su sitio
registrado"), never "your 1 registered site" ("su 1 sitio"); two are "your 2 registered sites"."""

from __future__ import annotations

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db

SITE_COUNTS = {
    ("en", 1): "Your registered site, its cameras and contact details have been deleted",
    ("en", 2): "Your 2 registered sites, their cameras and contact details have been deleted",
    ("es", 1): "Su sitio registrado, sus cámaras y sus datos de contacto se han borrado",
    ("es", 2): "Sus 2 sitios registrados, sus cámaras y sus datos de contacto se han borrado",
}


@pytest.mark.parametrize(("language", "sites"), SITE_COUNTS)
def test_the_opt_out_email_counts_the_sites_in_words(
    make_resident, site_data, django_capture_on_commit_callbacks, language: str, sites: int
):
    resident = make_resident("concord", email="maria@example.org")
    resident.client.post("/i18n/setlang/", {"language": language, "next": "/"})
    for number in range(sites):
        resident.client.post("/register/", site_data(address=f"{77 + number} Union St S"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        resident.client.post("/my/leave/", {"confirm": "on"})
    body = " ".join(mail.outbox[0].body.split())
    assert SITE_COUNTS[language, sites] in body
    assert " 1 registered site" not in body and "Su 1 sitio" not in body
