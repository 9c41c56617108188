"""The department console's casework pages: incidents (list, open, edit, close, reopen), their
canvass (rows, states, reveals, footage requests), area notices and the footage received."""

from __future__ import annotations

import dataclasses
import hashlib
import html
import io
import json
import operator
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import orjson
from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language, get_language_info, ngettext
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.department import selectors, services
from portal.department.forms import (
    NOTE_NAMES_OWNER,
    CanvassEntryForm,
    IncidentEditForm,
    IncidentForm,
    NotifyConfirmForm,
    NotifyForm,
    RevealForm,
)
from portal.department.models import (
    CanvassEntry,
    FootageClip,
    Incident,
    Notification,
    NotificationRecipient,
)
from portal.department.views import CASEWORK, StaffRequest, _actor, _errors, staff_required
from portal.guardrails import services as guardrail_services
from portal.guardrails.rules import ApprovalNeeded, GuardrailRefused
from portal.registry.audit import NoteNamesOwner
from portal.registry.csv_safe import SafeWriter
from portal.registry.models import Camera, Site
from tenants.compiled import KeptInstance
from tenants.http import private_file_response
from tenants.storage import STORAGE_RETRY_AFTER, ForeignFile, StorageUnavailable
from tenants.units import distance_formatter, units_of

if TYPE_CHECKING:
    from django.template.backends.base import _EngineTemplate

# The incidents list, a page at a time.
INCIDENTS_PER_PAGE = 50
CASE_SEARCH_MAX = 40

CLOSED = _lazy("This case is closed: nobody is contacted about it. Reopen it first.")


def _is_htmx(request: HttpRequest) -> bool:
    """A request htmx sent for part of a page (the canvass's row updates)."""
    return request.headers.get("HX-Request") == "true"


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(CASEWORK)
def incidents(request: StaffRequest) -> HttpResponse:
    program = request.tenant.program
    form = IncidentForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_open(actor=_actor(request), **form.cleaned_data)
        except GuardrailRefused as refused:
            form.add_error(refused.field, refused.message)
        else:
            return redirect("department:incident", incident_id=incident.pk)
    query = request.GET.get("case", "").strip()[:CASE_SEARCH_MAX]
    listed = Incident.objects.order_by("-created_at", "-pk")
    if query:
        listed = listed.filter(case_number__icontains=query)
    page = Paginator(listed, INCIDENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "department/incidents.html",
        {
            "form": form,
            "incidents": page.object_list,
            "page": page,
            "query": query,
            "program": program,
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(CASEWORK)
def incident_edit(request: StaffRequest, incident_id: int) -> HttpResponse:
    """Change a case's number, offense type, description or time window; recorded."""
    incident = get_object_or_404(Incident, pk=incident_id)
    program = request.tenant.program
    form = IncidentEditForm(request.POST or None, instance=incident, program=program)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.INCIDENT_EDITABLE}
        try:
            services.incident_edit(
                actor=_actor(request), incident=Incident.objects.get(pk=incident.pk), **data
            )
        except GuardrailRefused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            messages.success(request, _("The incident is saved."))
            return redirect("department:incident", incident_id=incident.pk)
    incident.refresh_from_db()
    return render(
        request,
        "department/incident_edit.html",
        {"incident": incident, "form": form, "program": program},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@staff_required(CASEWORK)
def incident_close(request: StaffRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        services.incident_close(actor=_actor(request), incident=incident)
    except services.IncidentStateUnchanged:
        messages.info(request, _("This case was already closed."))
    else:
        messages.success(request, _("The case is closed: nobody is contacted about it now."))
    return redirect("department:incident", incident_id=incident.pk)


@require_POST
@staff_required(CASEWORK)
def incident_reopen(request: StaffRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        services.incident_reopen(actor=_actor(request), incident=incident)
    except services.IncidentStateUnchanged:
        messages.info(request, _("This case was already open."))
    else:
        messages.success(request, _("The case is open again."))
    return redirect("department:incident", incident_id=incident.pk)


# The nearest sites a canvass page shows at first; the rest come a hundred at a time on demand,
# and all of them in the CSV export.
CANVASS_ROWS = 100
# Without JavaScript the "more" link reloads the page with more rows, up to this many.
CANVASS_ROWS_MAX = 2_000


class CanvassRow(NamedTuple):
    """One line of the canvass page, every value ready to print (the page lists a hundred
    rows at a time, and the template only places them): the site, what its active cameras
    keep, the state of contact with its owner, what the owner answered and the clips they
    sent. Its form fields are named with `prefix`: all rows share the page's one form, and so
    one CSRF token. A named tuple: a page makes a hundred, and its values are read as one
    tuple (canvass_rows_html)."""

    number: int
    site_id: int
    prefix: str
    address: str
    kind: str
    participation: str
    # Written in the department's units ("350 ft", "1.2 km").
    distance: str
    footage_likely: bool
    email_undeliverable: bool
    cameras: list[str]
    state: str
    state_label: str
    notes: str
    answers: list[str]
    clips: list[selectors.ClipView]
    reveal_url: str
    state_url: str
    request_url: str


def _answer_labels() -> dict[tuple[str, str], str]:
    """What each (notice kind, answer) says next to a site; translated once per page."""
    area, request = Notification.Kind.AREA, Notification.Kind.FOOTAGE_REQUEST
    has, nothing = NotificationRecipient.Answer.HAS_FOOTAGE, NotificationRecipient.Answer.NOTHING
    return {
        (area, has): _("Area notice: has footage"),
        (area, nothing): _("Area notice: nothing relevant"),
        (area, ""): _("Area notice: no answer yet"),
        (request, has): _("Footage request: has footage"),
        (request, nothing): _("Footage request: nothing relevant"),
        (request, ""): _("Footage request: no answer yet"),
    }


def _canvass_rows(
    incident: Incident,
    sites: list[selectors.CanvassSite],
    *,
    units: str,
    replies: selectors.CanvassReplies | None = None,
) -> list[CanvassRow]:
    """The rows of these sites; `replies` when the caller already read them (canvass_replies)."""
    cameras = selectors.canvass_cameras([site.pk for site in sites])
    entries = selectors.canvass_entries(incident)
    if replies is None:
        replies = selectors.canvass_replies(incident, sites)
    # Labels are translated once per page, not once per row.
    kinds = {value: str(label) for value, label in Site.Kind.choices}
    participations = {value: str(label) for value, label in Site.Participation.choices}
    sees = {value: str(label) for value, label in Camera.Sees.choices}
    states = {value: str(label) for value, label in CanvassEntry.State.choices}
    answer_labels = _answer_labels()
    urls = {
        name: reverse(f"department:{name}", args=[incident.pk, 0])
        for name in ("reveal", "canvass_entry", "footage_request")
    }

    distance = distance_formatter(units)
    # What a camera shows, written once per page for each camera that shows it the same way
    # (cameras repeat a few directions, views and retentions).
    camera_texts: dict[tuple[int, tuple[str, ...], int], str] = {}

    def camera_text(camera: selectors.CameraView) -> str:
        key = (camera.direction, tuple(camera.sees), camera.retention_days)
        text = camera_texts.get(key)
        if text is None:
            text = camera_texts[key] = (
                f"{camera.direction}° {', '.join(sees.get(v, v) for v in camera.sees)} "
                f"({camera.retention_days} d)"
            )
        return text

    def url(name: str, site_id: int) -> str:
        return urls[name].replace("/sites/0/", f"/sites/{site_id}/")

    rows = []
    for site in sites:
        state, notes = entries.get(site.pk, (CanvassEntry.State.NOT_CONTACTED, ""))
        rows.append(
            CanvassRow(
                number=site.number,
                site_id=site.pk,
                prefix=row_prefix(site.pk),
                address=site.address,
                kind=kinds.get(site.kind, site.kind),
                participation=participations.get(site.participation, site.participation),
                distance=distance(site.distance_m),
                footage_likely=site.footage_likely,
                email_undeliverable=site.email_undeliverable,
                cameras=[camera_text(camera) for camera in cameras.get(site.pk, ())],
                state=state,
                state_label=states.get(state, state),
                notes=notes,
                answers=[
                    answer_labels[(reply.kind, reply.answer)]
                    for reply in replies.answers.get(site.pk, ())
                ],
                clips=replies.clips.get(site.pk, []),
                reveal_url=url("reveal", site.pk),
                state_url=url("canvass_entry", site.pk),
                request_url=url("footage_request", site.pk),
            )
        )
    return rows


# What a row's stamp holds where a value goes: the value's name between two NUL characters
# (no text of a row can hold one: _row_value strips them all the same).
MARK = "\x00"
MARKED = re.compile(f"{MARK}([a-z_]+){MARK}")
ROW_FIELDS = CanvassRow._fields
# What the row template tests rather than prints.
ROW_TESTED = frozenset({"state", "footage_likely", "email_undeliverable"})
TESTED_VALUES = operator.itemgetter(*(ROW_FIELDS.index(name) for name in sorted(ROW_TESTED)))


def canvass_rows_html(rows: list[CanvassRow]) -> SafeString:
    """The rows' HTML from department/_canvass_row.html, rendered once per kind of row rather
    than once per row: a kind is what the template tests (the state, footage likely, an
    undeliverable email) and which values are there at all (notes, answers). Each kind is
    rendered with marks in place of the values, and every row of that kind fills them in,
    escaped as the template escapes them. A row with clips (links of their own) is rendered
    through the template itself. A hundred rows cost a few renderings, not a hundred, and each
    kind's stamp is kept for the city and language (the template_fragments cache): a page
    whose kinds were all seen before renders none."""
    template = get_template("department/_canvass_row.html")
    stamps: dict[tuple[object, ...], RowStamp] = {}
    language = get_language() or ""
    parts: list[str] = []
    for row in rows:
        if row.clips:
            parts.append(template.render({"row": row, "states": CanvassEntry.State.choices}))
            continue
        # What the template tests, and which values are there at all.
        kind = (*TESTED_VALUES(row), *map(bool, row))
        stamp = stamps.get(kind)
        if stamp is None:
            stamp = stamps[kind] = _row_stamp_kept(template, row, kind, language)
        # Each value escaped once, however many times the row shows it.
        parts.append(stamp.text.format(*map(_row_value, map(row.__getitem__, stamp.places))))
    return SafeString("".join(parts))


@dataclass(frozen=True)
class RowStamp:
    """The row template rendered for one kind of row, as a format string: its text with `{n}`
    where the n-th of the values it prints goes (the text's own braces doubled), and those
    values' places in ROW_FIELDS."""

    text: str
    places: tuple[int, ...]


def _row_stamp_kept(
    template: _EngineTemplate, row: CanvassRow, kind: tuple[object, ...], language: str
) -> RowStamp:
    """The stamp of rows of this kind, rendered once per process for the city (its schema is in
    the cache's keys: a city may override the template) and the language (the labels)."""
    digest = hashlib.md5(repr(kind).encode(), usedforsecurity=False).hexdigest()
    key = f"canvass-row-stamp:{language}:{digest}"
    fragments = caches["template_fragments"]
    stamp = fragments.get(key)
    if stamp is None:
        stamp = _row_stamp(template, row)
        fragments.set(key, stamp)
    return stamp


def _row_stamp(template: _EngineTemplate, row: CanvassRow) -> RowStamp:
    """The stamp of rows of this one's kind. Values that are not there (no notes) and those
    the template tests are kept as they are."""
    marks: dict[str, object] = {}
    for name in ROW_FIELDS:
        value = getattr(row, name)
        if name not in ROW_TESTED and value:
            mark = f"{MARK}{name}{MARK}"
            marks[name] = [mark] if isinstance(value, list) else mark
    marked = row._replace(**marks)  # type: ignore[arg-type]
    rendered = template.render({"row": marked, "states": CanvassEntry.State.choices})
    pieces = MARKED.split(rendered)  # text at even places, a value's name at odd places
    names = list(marks)
    text = "".join(
        piece.replace("{", "{{").replace("}", "}}")
        if place % 2 == 0
        else f"{{{names.index(piece)}}}"
        for place, piece in enumerate(pieces)
    )
    return RowStamp(text, tuple(ROW_FIELDS.index(name) for name in names))


def _row_value(value: object) -> str:
    """A row's value as the template prints it: localized and escaped, a list joined by line
    breaks (the template's `join:"<br>"`), with no mark character left in it. Plain text
    (most values) goes straight to the escaping the template applies (Django's `escape` is
    `html.escape`): localize() and conditional_escape's checks leave it unchanged; so does an
    integer (a site's key, its number) when numbers are not grouped."""
    if type(value) is str:
        return html.escape(value.replace(MARK, ""))
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        # What localize() gives an integer without grouping, without its three format lookups.
        return str(value)
    if isinstance(value, list):
        return "<br>".join(
            html.escape(item.replace(MARK, ""))
            if type(item) is str
            else conditional_escape(str(item).replace(MARK, ""))
            for item in value
        )
    return conditional_escape(str(localize(value)).replace(MARK, ""))


def row_prefix(site_id: int) -> str:
    """The prefix of one canvass row's fields in the page's shared form."""
    return f"site{site_id}"


def _row_prefix_sent(request: HttpRequest, site_id: int) -> str | None:
    """The row's prefix when the canvass page's shared form sent the fields (it sends every
    row's), None when a form for this site alone sent them without one."""
    prefix = row_prefix(site_id) + "-"
    return prefix[:-1] if any(name.startswith(prefix) for name in request.POST) else None


def _canvass_sites_geojson(sites: list[selectors.CanvassSite]) -> dict[str, object]:
    """The listed sites for the incident's map: compact GeoJSON points, numbered as listed."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(site.longitude, 6), round(site.latitude, 6)],
                },
                "properties": {"n": site.number},
            }
            for site in sites
        ],
    }


# What Django's json_script escapes in JSON placed in a <script> element.
SCRIPT_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def script_json(value: object) -> SafeString:
    """`value` as JSON to place in a <script type="application/json"> element, escaped as
    Django's json_script escapes it; written by orjson (the map's points of a hundred sites:
    10 µs against json.dumps's 130)."""
    return SafeString(orjson.dumps(value).decode().translate(SCRIPT_JSON_ESCAPES))


def _count_arg(request: HttpRequest, name: str, default: int, most: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except ValueError:
        return default
    return min(max(value, 0), most)


def _more(incident: Incident, shown: int, total: int) -> dict[str, object] | None:
    """The "more" link after `shown` rows: the next rows for the page's script, or the page
    with more rows for a browser without it."""
    if shown >= total:
        return None
    page = reverse("department:incident", args=[incident.pk])
    rows = reverse("department:canvass_rows", args=[incident.pk])
    return {
        "rows_url": f"{rows}?after={shown}",
        "page_url": f"{page}?shown={min(shown + CANVASS_ROWS, CANVASS_ROWS_MAX)}#canvass",
        "without_script": shown < CANVASS_ROWS_MAX,
        "label": ngettext(
            "Show the next %(count)s of %(total)s site",
            "Show the next %(count)s of %(total)s sites",
            total,
        )
        % {"count": min(CANVASS_ROWS, total - shown), "total": total},
    }


# The incident of a canvass page, read by a kept query (tenants.compiled).
INCIDENTS: KeptInstance[Incident] = KeptInstance(lambda: Incident)


@require_safe
@staff_required(CASEWORK)
def incident(request: StaffRequest, incident_id: int) -> HttpResponse:
    incident = INCIDENTS.get(incident_id)
    if incident is None:
        raise Http404
    shown = max(_count_arg(request, "shown", CANVASS_ROWS, CANVASS_ROWS_MAX), CANVASS_ROWS)
    canvass = selectors.canvass(incident, limit=shown)
    # The page lists the canvass's addresses: recorded once per visit (services.CANVASS_VISIT).
    services.canvass_viewed(actor=_actor(request), incident=incident, site_count=canvass.total)
    notifications = _notifications(incident)
    clips = selectors.incident_clips(incident) if notifications else []
    replies = selectors.canvass_replies(
        incident,
        canvass.sites,
        clips=clips,
        kinds={notification.kind for notification in notifications},
    )
    rows = _canvass_rows(
        incident, canvass.sites, units=units_of(request.tenant.program), replies=replies
    )
    numbers = {row.site_id: row.number for row in rows}
    return render(
        request,
        "department/incident.html",
        {
            "incident": incident,
            "rows_html": canvass_rows_html(rows),
            "listed": len(rows),
            "total": canvass.total,
            "more": _more(incident, len(canvass.sites), canvass.total),
            "map_sites_json": script_json(_canvass_sites_geojson(canvass.sites)),
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
            "notify_form": NotifyForm(),
            "notifications": [n for n in notifications if n.kind == Notification.Kind.AREA],
            # Every clip of the case, each with the numbers of the listed sites it came from.
            "clips": [
                (clip, [numbers[pk] for pk in clip.site_ids if pk in numbers]) for clip in clips
            ],
        },
    )


def _notifications(incident: Incident) -> list[selectors.NoticeSummary]:
    """The incident's notices (area notices and footage requests), newest first, with their
    counts, and `queued` set on those whose job still waits in the outbox for the broker
    (Redis down when it was sent). No notice, no answer and no clip: the page asks no more."""
    notices = selectors.incident_notices(incident)
    if not notices:
        return []
    queued = services.notification_queued([notice.pk for notice in notices])
    return [dataclasses.replace(notice, queued=notice.pk in queued) for notice in notices]


@require_safe
@staff_required(CASEWORK)
def canvass_rows(request: StaffRequest, incident_id: int) -> JsonResponse:
    """The canvass's next rows after `after`, for the page's "more" link: their HTML (the
    page's own row template) and their map points. Recorded like the page (once per visit)."""
    incident = get_object_or_404(Incident, pk=incident_id)
    after = _count_arg(request, "after", 0, 10**9)
    canvass = selectors.canvass(incident, offset=after, limit=CANVASS_ROWS)
    services.canvass_viewed(actor=_actor(request), incident=incident, site_count=canvass.total)
    rows = _canvass_rows(incident, canvass.sites, units=units_of(request.tenant.program))
    return JsonResponse(
        {
            "rows": canvass_rows_html(rows),
            "sites": _canvass_sites_geojson(canvass.sites),
            "total": canvass.total,
            "more": _more(incident, after + len(rows), canvass.total),
        }
    )


def _row_answer(
    request: StaffRequest, incident: Incident, site_id: int, message: str, *, failed: bool
) -> HttpResponse:
    """The answer to a row's action: with htmx, that row alone re-rendered (its site found by
    key, not by the whole distance search again) and the message for the page's live region
    (the `canvass:message` event, canvass.js); without, the message and the page again."""
    if not _is_htmx(request):
        (messages.error if failed else messages.success)(request, message)
        return redirect("department:incident", incident_id=incident.pk)
    number = _count_arg(request, "n", 0, 10**9)
    site = selectors.canvass_site(incident, site_id, number=number)
    rows = (
        []
        if site is None
        else _canvass_rows(incident, [site], units=units_of(request.tenant.program))
    )
    response = HttpResponse(canvass_rows_html(rows))
    response["HX-Trigger"] = json.dumps(
        {"canvass:message": {"message": str(message), "failed": failed}}
    )
    return response


@require_POST
@staff_required(CASEWORK)
def canvass_entry(request: StaffRequest, incident_id: int, site_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    site = get_object_or_404(Site, pk=site_id)
    form = CanvassEntryForm(request.POST, prefix=_row_prefix_sent(request, site.pk))
    if not form.is_valid():
        return _row_answer(request, incident, site.pk, _errors(form), failed=True)
    services.canvass_entry_update(incident=incident, site=site, **form.cleaned_data)
    return _row_answer(
        request,
        incident,
        site.pk,
        _("Saved: %(address)s.") % {"address": site.address},
        failed=False,
    )


@require_http_methods(["GET", "POST"])
@staff_required(CASEWORK)
def reveal(request: StaffRequest, incident_id: int, site_id: int) -> HttpResponse:
    """Contact details, shown only in answer to this request, after it is recorded. The page
    reloaded (a GET) reveals nothing again: it goes back to the incident with a word on why."""
    incident = get_object_or_404(Incident, pk=incident_id)
    if request.method != "POST":
        messages.info(
            request,
            _(
                "Contact details are shown only once, when you ask for them. To see them again, "
                "ask again from the incident page with a reason."
            ),
        )
        return redirect("department:incident", incident_id=incident.pk)
    site = get_object_or_404(Site.objects.searchable().select_related("participant"), pk=site_id)
    form = RevealForm(request.POST, site=site, prefix=_row_prefix_sent(request, site.pk))
    if form.is_valid():
        try:
            services.contact_reveal(
                actor=_actor(request), site=site, incident=incident, note=form.cleaned_data["note"]
            )
        except services.IncidentClosed:
            messages.error(request, CLOSED)
            return redirect("department:incident", incident_id=incident.pk)
        except ApprovalNeeded as needed:
            return approval_held_reveal(
                request, incident=incident, site=site, note=form.cleaned_data["note"], needed=needed
            )
        except NoteNamesOwner:  # the form checks the same rule; this is the writer's own guard
            form.add_error("note", NOTE_NAMES_OWNER)
    if form.errors:
        return render(
            request,
            "department/reveal.html",
            {"incident": incident, "site": site, "form": form},
            status=400,
        )
    return render(
        request,
        "department/reveal.html",
        {
            "incident": incident,
            "site": site,
            "shown": True,
            "language": _language_name(site.participant.language),
        },
    )


def _language_name(code: str) -> str:
    """The owner's language as a word in the reader's language ("Spanish", "español")."""
    try:
        return str(get_language_info(code)["name_translated"]) if code else ""
    except KeyError:
        return code


def approval_held_reveal(
    request: StaffRequest, *, incident: Incident, site: Site, note: str, needed: ApprovalNeeded
) -> HttpResponse:
    """A reveal a guardrail holds: recorded as a request for another staff member's approval
    (nothing is shown until then)."""
    approval = guardrail_services.approval_request_reveal(
        actor=_actor(request), incident=incident, site=site, note=note, needed=needed
    )
    return render(
        request,
        "guardrails/held.html",
        {
            "approval": approval,
            "needed": needed,
            "back": reverse("department:incident", args=[incident.pk]),
        },
        status=202,
    )


# A notice recorded while the mail queue (Redis) is down: it waits in the outbox, not lost.
NOTICE_QUEUED = _lazy(
    "The notice is recorded and queued: the mail queue is briefly unavailable, and the emails "
    "go out by themselves as soon as it is back."
)


@require_POST
@staff_required(CASEWORK)
def notify(request: StaffRequest, incident_id: int) -> HttpResponse:
    """An area notice in two steps: the incident page's form asks, and this answers with a
    confirmation saying how many owners it will contact (those contacted about the case before
    are left out); the confirmation's form, with its one-time key, sends it. The same key sent
    again (a double click) sends nothing more."""
    incident = get_object_or_404(Incident, pk=incident_id)
    if incident.is_closed:
        messages.error(request, CLOSED)
        return redirect("department:incident", incident_id=incident.pk)
    if "key" not in request.POST:
        form = NotifyForm(request.POST)
        if not form.is_valid():
            messages.error(request, _errors(form))
            return redirect("department:incident", incident_id=incident.pk)
        contacting, left_out = selectors.area_notice_preview(incident)
        return render(
            request,
            "department/notify_confirm.html",
            {
                "incident": incident,
                "form": NotifyConfirmForm(
                    initial={
                        "message": form.cleaned_data["message"],
                        "key": secrets.token_urlsafe(24),
                    }
                ),
                "message": form.cleaned_data["message"],
                "contacting": contacting,
                "left_out": left_out,
            },
        )
    confirmed = NotifyConfirmForm(request.POST)
    if not confirmed.is_valid():
        messages.error(request, _errors(confirmed))
        return redirect("department:incident", incident_id=incident.pk)
    try:
        sent = services.notification_send(
            actor=_actor(request),
            incident=incident,
            message=confirmed.cleaned_data["message"],
            key=confirmed.cleaned_data["key"],
        )
    except services.IncidentClosed:
        messages.error(request, CLOSED)
        return redirect("department:incident", incident_id=incident.pk)
    if not sent.created:
        messages.info(
            request,
            _(
                "This notice was already sent (the button was pressed more than once): "
                "nobody was contacted twice."
            ),
        )
    elif services.notification_queued([sent.notification.pk]):
        # The broker (Redis) did not take the job: the outbox hands it over once it is back.
        messages.success(request, NOTICE_QUEUED)
    else:
        messages.success(request, _("The notice is on its way to the owners in the area."))
    return redirect("department:incident", incident_id=incident.pk)


@require_POST
@staff_required(CASEWORK)
def footage_request(request: StaffRequest, incident_id: int, site_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    site = get_object_or_404(Site.objects.searchable(), pk=site_id)
    form = NotifyForm(request.POST)
    if not form.is_valid():
        return _row_answer(request, incident, site.pk, _errors(form), failed=True)
    try:
        request_sent = services.footage_request(
            actor=_actor(request),
            incident=incident,
            site=site,
            message=form.cleaned_data["message"],
        )
    except services.IncidentClosed:
        return _row_answer(request, incident, site.pk, str(CLOSED), failed=True)
    except services.OwnerUnreachable:
        return _row_answer(
            request,
            incident,
            site.pk,
            _(
                "Emails to this owner's address fail (the email provider reported it), so no "
                "request was sent: reveal their contact details and call them."
            ),
            failed=True,
        )
    if services.notification_queued([request_sent.pk]):
        message = str(NOTICE_QUEUED)
    else:
        message = _("The footage request is on its way to the owner of %(address)s.") % {
            "address": site.address
        }
    return _row_answer(request, incident, site.pk, message, failed=False)


@require_safe
@staff_required(CASEWORK)
def clip_download(request: StaffRequest, clip_id: int) -> HttpResponseBase:
    """Hand a clip to staff, the only way to read one: recorded first, then streamed, or
    redirected to a one-minute signed URL in object storage; never sniffed, never cached. An
    attachment, except `?preview=1` for an image or video a browser shows (the canvass's
    previews): inline, as its sniffed type, sandboxed, and recorded like a download."""
    clip = get_object_or_404(FootageClip.objects.select_related("incident"), pk=clip_id)
    preview = request.GET.get("preview") == "1"
    if preview and not selectors.clip_preview_kind(clip.content_type):
        raise Http404  # only images and videos are shown inline; the rest is downloaded
    try:
        handout = services.clip_open(actor=_actor(request), clip=clip, inline=preview)
    except ForeignFile as error:
        # A row naming another city's file (it cannot come from an upload): never served.
        raise Http404 from error
    except StorageUnavailable as failure:
        # Storage unreachable, full or the file lost: said on a page of ours (not a browser's
        # connection error at a redirect); the attempt is in the audit trail (DOWNLOAD_FAILED).
        response = render(
            request,
            "department/storage_unavailable.html",
            {"problem": failure.message, "incident": clip.incident},
            status=503,
        )
        response["Retry-After"] = str(STORAGE_RETRY_AFTER)
        return response
    return private_file_response(handout)


@require_safe
@staff_required(CASEWORK)
def canvass_export(request: StaffRequest, incident_id: int) -> HttpResponse:
    """The canvass as CSV (sites from the same distance search, no contact details); recorded."""
    incident = get_object_or_404(Incident, pk=incident_id)
    sites = selectors.canvass(incident).sites
    # One entry per exported site, so that each owner sees the export among their entries.
    services.canvass_for_export(actor=_actor(request), incident=incident, sites=sites)
    cameras = selectors.canvass_camera_counts([site.pk for site in sites])
    entries = selectors.canvass_entries(incident)
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(
        [
            "number",
            "distance_m",
            "address",
            "site_type",
            "cameras",
            "footage_likely",
            "state",
            "notes",
        ]
    )
    for site in sites:
        state, notes = entries.get(site.pk, (CanvassEntry.State.NOT_CONTACTED, ""))
        writer.writerow(
            [
                site.number,
                round(site.distance_m),
                site.address,
                site.kind,
                cameras.get(site.pk, 0),
                "yes" if site.footage_likely else "no",
                state,
                notes,
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="canvass-{incident.pk}.csv"'
    return response
