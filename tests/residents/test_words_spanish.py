"""Every string a resident can meet is in Spanish, in the usted form, in the catalogue the pages
use: the source's msgids (as makemessages extracts them) against the Spanish catalogue and its
compiled form."""

from __future__ import annotations

import re
from pathlib import Path

import allauth
import pytest
from babel.messages.pofile import read_po
from django.utils import translation

from tests.residents.catalogue import (
    SPANISH_MO,
    source_strings,
    spanish_mo,
    spanish_po,
    translated,
)

# What a resident (or anyone signing in) can see: the portal's resident apps, the live view's
# owner side, the access notices, the sign-in and error pages, the outage page.
RESIDENT_SOURCES = (
    "portal/residents",
    "portal/registry",
    "portal/access_notices",
    "portal/liveview",
    "tenants/templates",
    "tenants/adapters.py",
    "tenants/account_lock.py",
    "tenants/views.py",
    "platform/canvass/templates",
)


def _missing(catalogue_has: object) -> list[str]:
    seen: set[tuple[str, str | None]] = set()
    problems = []
    for string in source_strings(*RESIDENT_SOURCES):
        key = (string.singular, string.context)
        if key in seen:
            continue
        seen.add(key)
        if not catalogue_has(string):  # type: ignore[operator]
            context = f" [{string.context}]" if string.context else ""
            problems.append(f"{string.path}:{string.line}{context} {string.msgid!r}")
    return problems


def test_the_extraction_sees_the_strings_of_templates_python_and_aliases():
    strings = {s.singular for s in source_strings("portal/residents")}
    assert "Please correct the following:" in strings  # a template's {% translate %}
    assert "Tick the box to confirm that you want to leave." in strings  # gettext_lazy as _
    # gettext_lazy imported as _lazy: the link problems of the yearly confirmation.
    assert "This link has expired. Sign in to confirm your registration." in strings


def test_every_resident_facing_string_has_a_spanish_translation():
    catalogue = spanish_po()
    missing = _missing(lambda s: translated(catalogue.get(s.singular, context=s.context)))
    assert not missing, "No Spanish translation in django.po for:\n" + "\n".join(missing)


def test_the_compiled_catalogue_the_pages_use_has_every_resident_facing_string():
    if not SPANISH_MO.exists():
        pytest.fail("portal/locale/es/LC_MESSAGES/django.mo is missing: run `make messages`")
    catalogue = spanish_mo()
    missing = _missing(lambda s: translated(catalogue.get(s.msgid, context=s.context)))
    assert not missing, "Not in the compiled catalogue (run `make messages`):\n" + "\n".join(
        missing
    )


# Words only the tú form uses: possessives, pronouns and second-person verbs anywhere, and tú
# imperatives at the start of a sentence (usted says "su", "puede", "Elija", "Escriba"...).
TU_WORDS = re.compile(
    r"\b(tu|tus|tú|te|ti|contigo|puedes|tienes|quieres|debes|eres|estás|estes|has|haz|pon|"
    r"necesitas|sabes|recibes|ves|decides|deseas|inicies|olvidaste|recibiste|hiciste|"
    r"confíes|introdúcelo|recibirás|podrás|verás|tendrás|deberás)\b",
    re.IGNORECASE,
)
TU_IMPERATIVES = re.compile(
    r"(?:^|[.:;!?¿¡]\s+|\(\s*)(Elige|Escoge|Pulsa|Haz|Introduce|Escribe|Revisa|Confirma|"
    r"Registra|Vuelve|Inicia|Cierra|Añade|Borra|Elimina|Selecciona|Comprueba|Cambia|"
    r"Copia|Abre|Usa|Intenta|Indica|Espera|Sigue|Deja|Guarda|Envía|Pide|Lee|Busca|"
    r"Mira|Acepta|Activa|Desactiva|Comparte|Conecta|Instala|Renueva|Solicita|Únete)\b"
)


# The parts of django-allauth the project uses (accounts and second factors).
ALLAUTH_IN_USE = ("templates/account", "templates/mfa", "templates/allauth", "account/", "mfa/")


def _strings(message: object) -> list[str]:
    string = message.string  # type: ignore[attr-defined]
    return [s for s in string if s] if isinstance(string, (tuple, list)) else [string]


def test_the_spanish_catalogue_addresses_people_as_usted():
    tu = []
    for message in spanish_po():
        if not message.id:
            continue
        for string in _strings(message):
            plain = re.sub(r"%\([a-z_]+\)s|\{[a-z_]+\}", "", string)
            found = TU_WORDS.search(plain) or TU_IMPERATIVES.search(plain)
            if found:
                tu.append(f"{found.group(0)!r} in {string!r}")
    assert not tu, "Tú forms in the Spanish catalogue:\n" + "\n".join(tu)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        ("not-a-token", 400, "Este enlace no es válido"),
    ],
)
def test_a_broken_confirmation_link_answers_in_spanish(
    concord_client, token: str, status: int, words: str
):
    concord_client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    response = concord_client.get(f"/verify/{token}/")
    assert response.status_code == status
    html = response.content.decode()
    assert words in html
    assert "This link" not in html


ALLAUTH_PO = Path(allauth.__file__).parent / "locale" / "es" / "LC_MESSAGES" / "django.po"


def test_the_sign_in_pages_address_people_as_usted():
    """django-allauth's own Spanish says tú; every string of its account and second-factor pages
    and emails is given in the usted form by the project's catalogue, which Django reads first."""
    with ALLAUTH_PO.open("rb") as handle:
        allauth_spanish = read_po(handle)
    tu = []
    with translation.override("es"):
        for message in allauth_spanish:
            paths = [location[0] for location in message.locations]
            if not message.id or not any(p.startswith(ALLAUTH_IN_USE) for p in paths):
                continue
            if isinstance(message.id, tuple):
                seen = [translation.ngettext(*message.id, n) for n in (1, 2)]  # type: ignore[misc]
            elif message.context:
                seen = [translation.pgettext(message.context, message.id)]
            else:
                seen = [translation.gettext(message.id)]
            for string in seen:
                found = TU_WORDS.search(string) or TU_IMPERATIVES.search(string)
                if found:
                    tu.append(f"{found.group(0)!r} in {string!r}")
    assert not tu, "Tú forms on the sign-in pages:\n" + "\n".join(tu)
