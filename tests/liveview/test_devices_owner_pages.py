"""The owner's device page: a claim code shown once on the page after asking for it, the
devices and their channels, in the owner's language; another owner's site is not found."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from portal.liveview.models import ClaimCode
from portal.registry.models import Site

pytestmark = pytest.mark.django_db

CODE = re.compile(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}")


def test_a_claim_code_is_shown_once_then_never_again(device_owner, device_api):
    page = f"/my/sites/{device_owner.site_id}/devices/"
    asked = device_owner.client.post(f"/my/sites/{device_owner.site_id}/devices/code/")
    assert asked.status_code == 302 and asked["Location"] == page
    shown = device_owner.client.get(page).content.decode()
    code = CODE.search(shown)
    assert code is not None and "it is not shown again" in shown
    assert not CODE.search(device_owner.client.get(page).content.decode())
    assert device_api("concord", "claim", {"code": code.group()}).status_code == 201
    with schema_context("concord"):
        assert ClaimCode.objects.get().used_at is not None


def test_the_manage_page_links_an_integrated_site_s_devices(device_owner):
    manage = device_owner.client.get("/my/").content.decode()
    assert f"/my/sites/{device_owner.site_id}/devices/" in manage


def test_the_page_speaks_spanish(device_owner_make, device_pair, device_api):
    paired = device_pair(device_owner_make(email="ana@example.org", language="es"))
    owner = paired.owner
    owner.client.cookies["django_language"] = "es"
    page = owner.client.get(f"/my/sites/{owner.site_id}/devices/", HTTP_ACCEPT_LANGUAGE="es")
    text = page.content.decode()
    assert "Vincular un dispositivo nuevo" in text and "Vinculado con el sitio" in text


def test_a_registered_site_cannot_ask_for_a_code(device_owner):
    with schema_context("concord"):
        Site.objects.filter(pk=device_owner.site_id).update(
            participation=Site.Participation.REGISTERED
        )
    answer = device_owner.client.post(
        f"/my/sites/{device_owner.site_id}/devices/code/", follow=True
    )
    assert "integrate this site first" in answer.content.decode()
    with schema_context("concord"):
        assert not ClaimCode.objects.exists()


def test_another_owner_s_site_and_devices_are_not_found(device_paired, device_owner_make):
    bob = device_owner_make(email="bob@example.org")
    site_id = device_paired.owner.site_id
    assert bob.client.get(f"/my/sites/{site_id}/devices/").status_code == 404
    assert bob.client.post(f"/my/sites/{site_id}/devices/code/").status_code == 404
    assert bob.client.get(f"/my/devices/{device_paired.device_id}/remove/").status_code == 404
