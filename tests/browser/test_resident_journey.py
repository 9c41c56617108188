"""A resident's whole journey in a real browser, in Spanish, on a desk and on a phone: sign up,
confirm the email, register a site with two cameras on the map, edit it, and leave the registry;
no page of it scrolls sideways."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import schema_context

from portal.registry.models import Site
from tests.browser.conftest import JOURNEY_SIZES, assert_fits

EMAIL = "lucia@browser.example.org"
PASSWORD = "una-contraseña-bastante-larga"


def fill_camera(page, index: int, label: str, direction: str, sees: str) -> None:
    page.fill(f"#id_cameras-{index}-label", label)
    page.fill(f"#id_cameras-{index}-direction", direction)
    page.check(f"input[name='cameras-{index}-sees'][value='{sees}']")
    page.select_option(f"#id_cameras-{index}-mount", "wall")
    page.check(f"input[name='cameras-{index}-recording'][value='motion']")
    page.fill(f"#id_cameras-{index}-retention_days", "14")


@pytest.mark.parametrize("size", JOURNEY_SIZES)
def test_a_resident_registers_edits_and_leaves_in_spanish(page, live_url, size):
    page.set_viewport_size(JOURNEY_SIZES[size])
    concord = live_url.format(city="concord")
    page.goto(concord + "/")
    assert_fits(page)
    page.get_by_role("button", name="Español").click()
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_role("link", name="Registre sus cámaras").click()

    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    assert page.get_by_role("heading", name="Verifique su dirección de correo").is_visible()

    # The server thread shares this process's locmem outbox.
    assert [message.to for message in mail.outbox] == [[EMAIL]]
    assert "confirme su dirección de correo electrónico" in mail.outbox[-1].subject
    link = re.search(r"http://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirmar").click()
    # Confirming the address does not sign the resident in; they sign in with the new account.
    page.wait_for_url(re.compile(r"/accounts/login/$"))
    assert page.get_by_text(f"Ha confirmado {EMAIL}.").is_visible()
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    # A resident's sign-in lands on "My cameras" (tenants.adapters).
    page.wait_for_url(re.compile(r"/my/$"))
    page.get_by_role("link", name="Registrar un sitio").click()

    page.fill("#id_address", "210 Union St S, Concord, NC 28025")
    page.locator("#site-map").click()
    latitude = float(page.input_value("#id_latitude"))
    longitude = float(page.input_value("#id_longitude"))
    assert abs(latitude - 35.4088) < 0.05 and abs(longitude + 80.5795) < 0.05
    page.check("input[name=kind][value=home]")
    fill_camera(page, 0, "Porche", "90", "street")
    page.get_by_role("button", name="Añadir otra cámara").click()
    fill_camera(page, 1, "Entrada de autos", "180", "driveway")
    page.fill("#id_contact_name", "Lucía Romero")
    page.fill("#id_contact_phone", "704-555-0150")
    page.check("input[name=contact_method][value=text]")
    page.check("#id_accept_terms")
    page.get_by_role("button", name="Registrar este sitio").click()

    page.wait_for_url(re.compile(r"/my/$"))
    assert page.get_by_text("Su sitio está registrado.").is_visible()
    assert_fits(page)
    assert page.get_by_role("heading", name="210 Union St S, Concord, NC 28025").is_visible()
    with schema_context("concord"):
        site = Site.objects.get(participant__user__email=EMAIL)
        assert site.cameras.count() == 2
        assert site.contact_phone == "+17045550150"

    page.get_by_role("link", name="Editar 210 Union St S, Concord, NC 28025").click()
    page.fill("#id_address", "212 Union St S, Concord, NC 28025")
    page.get_by_role("button", name="Guardar los cambios").click()
    page.wait_for_url(re.compile(r"/my/$"))
    assert page.get_by_role("heading", name="212 Union St S, Concord, NC 28025").is_visible()

    page.get_by_role("link", name="Salir del registro").click()
    page.check("#id_confirm")
    page.check("#id_close_account")
    assert_fits(page)
    page.get_by_role("button", name="Borrar mi registro").click()
    assert page.get_by_role("heading", name="Ha salido del registro").is_visible()
    assert_fits(page)
    with schema_context("concord"):
        assert not Site.objects.filter(pk=site.pk).exists()
        assert not get_user_model().objects.filter(email=EMAIL).exists()
    assert mail.outbox[-1].subject == "Ha salido de Registro Comunitario de Cámaras de Concord"
