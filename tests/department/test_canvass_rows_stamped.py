"""The canvass rows rendered once per kind of row and filled in (canvass_rows_html) are the same
HTML as the row template rendered for each row, whatever the row holds."""

from __future__ import annotations

from django.template.loader import get_template
from django.utils.translation import override

from portal.department.incident_views import CanvassRow, canvass_rows_html
from portal.department.models import CanvassEntry
from portal.department.selectors import ClipView


def row(number: int, **changes: object) -> CanvassRow:
    values: dict[str, object] = {
        "number": number,
        "site_id": 100 + number,
        "prefix": f"site{100 + number}",
        "address": f"{number} Elm St",
        "kind": "Home",
        "participation": "Register: location and contact only",
        "distance": f"{number * 10} ft",
        "footage_likely": True,
        "email_undeliverable": False,
        "cameras": ["90° Street (30 d)"],
        "state": "not_contacted",
        "state_label": "Not contacted",
        "notes": "",
        "answers": [],
        "clips": [],
        "reveal_url": f"/department/incidents/1/sites/{100 + number}/reveal/",
        "state_url": f"/department/incidents/1/sites/{100 + number}/state/",
        "request_url": f"/department/incidents/1/sites/{100 + number}/request/",
    }
    values.update(changes)
    return CanvassRow(**values)  # type: ignore[arg-type]


ROWS = [
    row(1),
    row(2, address='<b>2 "Oak" & Elm</b>', cameras=[], footage_likely=False),
    row(3, notes="Called <twice> & left a 'message'", state="declined", state_label="Declined"),
    row(4, cameras=["0° Street (7 d)", "180° Yard, <Door> (14 d)"], email_undeliverable=True),
    row(5, answers=["Area notice: has footage", "Footage request: <none>"]),
    row(6, notes="second with notes", state="declined", state_label="Declined"),
    row(7, address="A mark \x00address\x00 inside", notes="\x00notes\x00"),
    row(
        8,
        clips=[ClipView(9, "door <cam>.mp4", "video/mp4", 2048, None, (108,))],
        notes="with a clip",
    ),
    row(1234, distance="1.2 mi"),
    row(10, address="Unit {4} }{ St", notes="{notes} {0}", cameras=["{site_id}"]),
]


def per_row(rows: list[CanvassRow]) -> str:
    template = get_template("department/_canvass_row.html")
    return "".join(
        template.render({"row": each, "states": CanvassEntry.State.choices}) for each in rows
    )


def test_the_stamped_rows_are_the_rows_the_template_renders(db):
    stamped = canvass_rows_html(ROWS)
    rendered = per_row([row_without_marks(each) for each in ROWS])
    assert stamped == rendered
    assert "&lt;b&gt;2 &quot;Oak&quot; &amp; Elm&lt;/b&gt;" in stamped
    assert "Called &lt;twice&gt; &amp; left a &#x27;message&#x27;" in stamped
    assert "0° Street (7 d)<br>180° Yard, &lt;Door&gt; (14 d)" in stamped
    assert "\x00" not in stamped
    assert "Unit {4} }{ St" in stamped and "{notes} {0}" in stamped
    assert stamped.count('<option value="declined" selected>') == 2


def test_the_stamped_rows_speak_the_readers_language(db):
    with override("es"):
        stamped = canvass_rows_html(ROWS[:3])
        assert stamped == per_row(ROWS[:3])
    assert "Ver contacto" in stamped


def row_without_marks(each: CanvassRow) -> CanvassRow:
    """What the stamped rows print of a row: its text without NUL characters."""
    return each._replace(
        address=each.address.replace("\x00", ""),
        notes=each.notes.replace("\x00", ""),
    )


def test_grouped_numbers_are_written_as_the_template_writes_them(db, settings):
    """Site keys and numbers skip localize() only while numbers are not grouped."""
    settings.USE_THOUSAND_SEPARATOR = True
    stamped = canvass_rows_html(ROWS)
    assert stamped == per_row([row_without_marks(each) for each in ROWS])
    assert 'id="site-row-1,334"' in stamped


def test_each_kind_of_row_is_rendered_once_per_language_and_city(db):
    """The stamps are kept (the template_fragments cache): the same rows again render the row
    template no more; another language or another city (its schema in the keys: a city may
    override the template) renders its own."""
    from django.test.signals import template_rendered
    from django_tenants.utils import schema_context

    rows = [each for each in ROWS if not each.clips]
    renders: list[str] = []

    def seen(sender: object, template: object, **kwargs: object) -> None:
        if getattr(template, "name", "") == "department/_canvass_row.html":
            renders.append(str(template))

    english = per_row([row_without_marks(each) for each in rows])
    with override("es"):
        spanish = per_row([row_without_marks(each) for each in rows])
    template_rendered.connect(seen)
    try:
        assert canvass_rows_html(rows) == english
        kinds = len(renders)
        assert 1 < kinds < len(rows)
        assert canvass_rows_html(rows) == english
        assert len(renders) == kinds
        with override("es"):
            assert canvass_rows_html(rows) == spanish
        assert len(renders) == 2 * kinds
        assert canvass_rows_html(rows) == english
        with schema_context("concord"):
            assert canvass_rows_html(rows) == english
        assert len(renders) == 3 * kinds
    finally:
        template_rendered.disconnect(seen)
