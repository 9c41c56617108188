"""Department console forms; every rule is checked here, on the server."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from portal.department.clip_types import ClipRefused, clip_type_of
from portal.department.models import CanvassEntry, Incident
from portal.registry import geocoding
from portal.registry.audit import note_names_owner
from portal.registry.forms import FocusFirstErrorMixin, choices_set
from portal.registry.models import ASSIGNABLE_ROLES, AuditEntry, Site
from tenants.models import GEOCODER_CHOICES, LANGUAGE_CHOICES, Department, Program
from tenants.services import account_email_too_long
from tenants.units import IMPERIAL, METRIC, DistanceField, format_typed, to_metres

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
# A filter's date that is not a real day (2026-13-45) or not written year-month-day.
DATE_INVALID = _("Enter a real date as year-month-day, for example 2026-11-26.")


class StaffInviteForm(FocusFirstErrorMixin, forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=ASSIGNABLE_ROLES)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        # The account's username is its email: an address longer than a username cannot be one.
        if (too_long := account_email_too_long(email)) is not None:
            raise too_long
        return email


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ASSIGNABLE_ROLES)


class IncidentForm(FocusFirstErrorMixin, forms.ModelForm):
    latitude = forms.FloatField(
        label=_("Latitude"),
        min_value=-90,
        max_value=90,
        required=False,
        help_text=_(
            "Click the map, choose a suggested address, or leave the coordinates empty to "
            "look up the address."
        ),
    )
    longitude = forms.FloatField(
        label=_("Longitude"), min_value=-180, max_value=180, required=False
    )
    # Typed in the department's unit (feet or meters), stored in meters; its largest value is
    # the department's guardrail (Program.search_radius_max_m, below).
    radius_m = DistanceField(label=_("Search radius"))
    # Typed and shown in the department's local time (the zone the request runs in, see
    # tenants.middleware); datetime-local inputs need the ISO form, without seconds.
    starts_at = forms.DateTimeField(
        label=_("From"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT),
    )
    ends_at = forms.DateTimeField(
        label=_("Until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT),
    )

    class Meta:
        model = Incident
        fields = [
            "kind",
            "category",
            "case_number",
            "address",
            "latitude",
            "longitude",
            "starts_at",
            "ends_at",
            "radius_m",
        ]

    def __init__(self, *args: Any, program: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program = program
        # The offence type is chosen from the department's own list (Program.offence_types).
        self.fields["category"] = forms.ChoiceField(
            label=_("Offense type"),
            choices=[("", "---------"), *program.offence_type_choices()],
            help_text=_("Recorded with the case number in every audit entry about this case."),
        )
        department = program.department
        local_time = _("Times are %(city)s time (%(zone)s).") % {
            "city": department.city,
            "zone": department.time_zone,
        }
        self.fields["starts_at"].help_text = self.fields["ends_at"].help_text = local_time
        radius = self.fields["radius_m"]
        assert isinstance(radius, DistanceField)
        radius.use_units(program.distance_units)
        self.radius_unit = radius.unit
        # A round number in the department's unit: 1,500 ft or 500 m.
        radius.initial = to_metres(1500 if radius.unit == "ft" else 500, radius.unit)
        # The address suggests places as it is typed (department/address_search.js), and is
        # looked up on saving when the coordinates are left empty; without a geocoder, the
        # map or the coordinates give the place.
        if geocoding.enabled(program):
            self.fields["address"].widget.attrs.update(
                {
                    "data-address-search": reverse("department:geocode"),
                    "data-address-reverse": reverse("department:geocode_reverse"),
                    "autocomplete": "off",
                }
            )
        else:
            self.fields["latitude"].help_text = _("Click the map, or type the coordinates.")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at < starts_at:
            self.add_error("ends_at", _("The time window ends before it starts."))
        self._radius_check(data.get("radius_m"), data.get("kind"))
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if (latitude is None or longitude is None) and not self.errors.get("latitude"):
            latitude, longitude = self._place_from_address(data.get("address", ""))
            data["latitude"], data["longitude"] = latitude, longitude
        if (
            latitude is not None
            and longitude is not None
            and not self.program.covers(latitude, longitude)
        ):
            self.add_error("latitude", _("This place is outside the department's service area."))
        return data

    def _radius_check(self, radius_m: int | None, kind: str | None) -> None:
        """The department's guardrail: the radius searched (Incident.search_radius_m, twice the
        one typed for a missing person) may not exceed Program.search_radius_max_m."""
        if radius_m is None:
            return
        cap = self.program.search_radius_max_m
        factor = (
            Incident.MISSING_PERSON_RADIUS_FACTOR if kind == Incident.Kind.MISSING_PERSON else 1
        )
        if radius_m * factor <= cap:
            return
        unit = self.radius_unit
        if factor == 1:
            message = _(
                "This department searches at most %(cap)s from an incident: a wider canvass "
                "would list too much of the city. Narrow the radius (the export lists every "
                "site of a canvass)."
            ) % {"cap": format_typed(cap, unit, rounding="down")}
        else:
            message = _(
                "A missing person is searched within %(factor)s times the radius typed, and "
                "this department searches at most %(cap)s: type %(most)s or less."
            ) % {
                "factor": factor,
                "cap": format_typed(cap, unit, rounding="down"),
                "most": format_typed(cap / factor, unit, rounding="down"),
            }
        self.add_error("radius_m", message)

    def _place_from_address(self, address: str) -> tuple[float | None, float | None]:
        """The incident's place looked up from its address with the department's geocoder
        (Program.geocoder), when it has one; otherwise the map or the coordinates give it."""
        if not geocoding.enabled(self.program):
            self.add_error("latitude", _("Click the map or type the coordinates of the place."))
            return None, None
        if not address.strip():
            self.add_error("address", _("Give the address, or click the map."))
            return None, None
        try:
            place = geocoding.geocode(self.program, address)
        except geocoding.GeocoderUnavailable:
            self.add_error("latitude", _("Address search is unavailable; click the map instead."))
            return None, None
        if place is None:
            self.add_error("address", _("No place found for this address; click the map."))
            return None, None
        return place.latitude, place.longitude


class CanvassEntryForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=CanvassEntry.State.choices)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


NOTE_NAMES_OWNER = _(
    "The note contains the owner's name, phone or email. Leave them out: the owner and "
    "auditors read the note. Nothing was recorded."
)


class RevealForm(forms.Form):
    """The reveal's reason is the incident's offence type and case number; staff may add a
    note, which the owner and auditors read, so it may not carry the owner's details."""

    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=500,
        required=False,
        help_text=_(
            "Recorded with the case's offense type and number; the owner can read it. "
            "Never write the owner's name, phone or email."
        ),
    )

    def __init__(self, *args: Any, site: Site | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site

    def clean_note(self) -> str:
        note: str = self.cleaned_data["note"].strip()
        if self.site is not None and note_names_owner(note, self.site):
            raise forms.ValidationError(NOTE_NAMES_OWNER, code="names_owner")
        return note


# A department's list stays short enough to choose from.
MAX_OFFENCE_TYPES = 40
MAX_OFFENCE_LABEL = 60


class OffenceTypesForm(forms.Form):
    """The department's offence types, one label per line. Each keeps a stable code derived
    from its label (Vehicle crime: vehicle_crime); incidents and audit entries store the code."""

    offence_types = forms.CharField(
        label=_("Offense types"),
        widget=forms.Textarea(attrs={"rows": 12}),
        max_length=MAX_OFFENCE_TYPES * (MAX_OFFENCE_LABEL + 2),
        help_text=_(
            "One per line. Staff choose one for every incident; it is recorded with the case "
            "number in each audit entry about the case. Renaming a type starts a new one."
        ),
    )

    @staticmethod
    def initial_text(offence_types: list[dict[str, str]]) -> str:
        return "\n".join(offence["label"] for offence in offence_types)

    def clean_offence_types(self) -> list[dict[str, str]]:
        lines = self.cleaned_data["offence_types"].splitlines()
        labels = [label for label in (" ".join(line.split()) for line in lines) if label]
        if not labels:
            raise forms.ValidationError(_("List at least one offense type."))
        if len(labels) > MAX_OFFENCE_TYPES:
            raise forms.ValidationError(
                _("List at most %(count)s offense types.") % {"count": MAX_OFFENCE_TYPES}
            )
        offence_types: list[dict[str, str]] = []
        for label in labels:
            code = slugify(label).replace("-", "_")[:40]
            if len(label) > MAX_OFFENCE_LABEL:
                raise forms.ValidationError(
                    _("“%(label)s…” is too long; keep each type under %(limit)s characters.")
                    % {"label": label[:20], "limit": MAX_OFFENCE_LABEL}
                )
            if not code:
                raise forms.ValidationError(
                    _("“%(label)s” needs at least one letter or digit.") % {"label": label}
                )
            if any(offence["code"] == code for offence in offence_types):
                raise forms.ValidationError(_("“%(label)s” is listed twice.") % {"label": label})
            offence_types.append({"code": code, "label": label})
        return offence_types


class ClipLimitsForm(FocusFirstErrorMixin, forms.Form):
    """How much footage one answer link may bring: a number of files and a total in megabytes
    (stored in bytes on Program, whose field validators are the limits)."""

    clips_per_link_max = forms.IntegerField(
        label=_("Files per answer link"), min_value=1, max_value=100
    )
    megabytes_per_link_max = forms.IntegerField(
        label=_("Megabytes per answer link"),
        min_value=1,
        max_value=50 * 1024,
        help_text=_("All the files an owner sends through one link, together."),
    )

    @staticmethod
    def initial_for(program: Program) -> dict[str, int]:
        return {
            "clips_per_link_max": program.clips_per_link_max,
            "megabytes_per_link_max": program.clip_bytes_per_link_max // 1024**2,
        }


class ReplyToForm(FocusFirstErrorMixin, forms.Form):
    """The department's own address for answers to its emails (Program.reply_to_email): one
    bare address, or nothing. It becomes an email header, so a line break is refused, not
    stripped."""

    reply_to_email = forms.CharField(
        label=_("Reply-to address"),
        max_length=254,
        required=False,
        strip=False,
        help_text=_(
            "Residents' answers to the program's emails go to this address (your department's "
            "own mailbox). Leave it empty to send emails without one."
        ),
    )

    def clean_reply_to_email(self) -> str:
        value: str = self.cleaned_data["reply_to_email"]
        if "\r" in value or "\n" in value:
            raise ValidationError(
                _("An email address cannot contain a line break."), code="line_break"
            )
        value = value.strip()
        if value:
            try:
                validate_email(value)
            except ValidationError as error:
                raise ValidationError(
                    _(
                        "Enter one email address alone, such as cameras@concordpd.gov: no name, "
                        "no spaces, no second address."
                    ),
                    code="invalid",
                ) from error
        return value


class NotifyForm(forms.Form):
    message = forms.CharField(
        label=_("Message to owners (optional)"),
        max_length=600,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Leave empty to send the standard request, in each owner's language. Anything you "
            "write is sent as written: short and non-sensitive, no names, no case details."
        ),
    )


class ClipForm(forms.Form):
    """One file an owner sends through an answer link, recognised by its content."""

    clip = forms.FileField(label=_("Video clip or image"))

    def clean_clip(self) -> Any:
        from django.conf import settings
        from django.template.defaultfilters import filesizeformat

        upload = self.cleaned_data["clip"]
        if upload.size > settings.FOOTAGE_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s. Send a shorter clip.")
                % {
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(settings.FOOTAGE_MAX_BYTES),
                }
            )
        try:
            clip_type_of(upload, upload.size or 0)
        except ClipRefused as refusal:
            raise forms.ValidationError(str(refusal.message)) from None
        return upload


class AuditFilterForm(forms.Form):
    """The audit page's filters, read from the query string, the same for the page and its
    export; a value no entry could match (a date that does not exist, a NUL character, an
    over-long address, an unknown action) is refused with a message saying which and why.
    Dates are days in the department's time zone (the one active for the request)."""

    case_number = forms.CharField(label=_("Case number"), max_length=40, required=False)
    date_from = forms.DateField(
        label=_("From (date)"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": DATE_INVALID},
    )
    date_to = forms.DateField(
        label=_("Until (date)"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": DATE_INVALID},
    )
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        error_messages={"invalid_choice": _("There is no such action: choose one from the list.")},
    )
    actor = forms.CharField(label=_("Staff member"), max_length=254, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "action", [("", _("All")), *AuditEntry.Action.choices])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date comes before the start date."))
        return cleaned


class YardSignFilterForm(forms.Form):
    """Which yard signs the fulfilment list shows: those still to deliver, or those delivered."""

    PENDING, DELIVERED = "pending", "delivered"

    status = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[(PENDING, _("To deliver")), (DELIVERED, _("Delivered"))],
        error_messages={"invalid_choice": _("Choose “To deliver” or “Delivered”.")},
    )

    def status_chosen(self) -> str:
        return self.cleaned_data.get("status") or self.PENDING


class PlanOffersForm(FocusFirstErrorMixin, forms.Form):
    """Which device plans the city offers its residents, and in which order: a checkbox and a
    position for each plan on sale, named by the plan's code (fixed once created)."""

    def __init__(
        self, *args: Any, plans: list[Any], offered: dict[int, int], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.plans = plans
        for plan in plans:
            self.fields[f"offer_{plan.slug}"] = forms.BooleanField(
                label=_("Offer %(plan)s") % {"plan": plan.name},
                required=False,
                initial=plan.pk in offered,
            )
            self.fields[f"position_{plan.slug}"] = forms.IntegerField(
                label=_("Position of %(plan)s") % {"plan": plan.name},
                min_value=1,
                max_value=99,
                required=False,
                initial=offered.get(plan.pk),
                error_messages={
                    "min_value": _("Positions run from 1 to 99."),
                    "max_value": _("Positions run from 1 to 99."),
                    "invalid": _("Enter the position as a whole number, e.g. 1."),
                },
            )

    def rows(self) -> list[tuple[Any, forms.BoundField, forms.BoundField]]:
        return [
            (plan, self[f"offer_{plan.slug}"], self[f"position_{plan.slug}"]) for plan in self.plans
        ]

    def chosen(self) -> list[Any]:
        """The offered plans in the administrator's order (a plan without a position last)."""
        offered = [
            (self.cleaned_data.get(f"position_{plan.slug}") or 100, index, plan)
            for index, plan in enumerate(self.plans)
            if self.cleaned_data.get(f"offer_{plan.slug}")
        ]
        return [plan for _position, _index, plan in sorted(offered, key=lambda row: row[:2])]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        seen: dict[int, str] = {}
        for plan in self.plans:
            position = cleaned.get(f"position_{plan.slug}")
            if not cleaned.get(f"offer_{plan.slug}") or position is None:
                continue
            if position in seen:
                self.add_error(
                    f"position_{plan.slug}",
                    _("%(plan)s and %(other)s cannot both be number %(position)s.")
                    % {"plan": plan.name, "other": seen[position], "position": position},
                )
            seen[position] = plan.name
        return cleaned


class PortalSettingsForm(FocusFirstErrorMixin, forms.Form):
    """What a department's administrator sets of their own portal: its name, colours, logo,
    welcome texts, languages and terms (tenants.lifecycle.department_settings_apply checks
    every value against the models' rules)."""

    display_name = forms.CharField(label=_("Program name"), max_length=100)
    primary_color = forms.CharField(
        label=_("Primary color"), max_length=7, widget=forms.TextInput(attrs={"type": "color"})
    )
    accent_color = forms.CharField(
        label=_("Accent color"), max_length=7, widget=forms.TextInput(attrs={"type": "color"})
    )
    logo = forms.FileField(
        label=_("Logo"), required=False, help_text=_("PNG, JPEG or WebP; replaces the current one.")
    )
    logo_clear = forms.BooleanField(label=_("Remove the logo"), required=False)
    welcome_en = forms.CharField(
        label=_("Welcome text (English)"), max_length=2000, required=False, widget=forms.Textarea
    )
    welcome_es = forms.CharField(
        label=_("Welcome text (Spanish)"), max_length=2000, required=False, widget=forms.Textarea
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The languages your portal offers."),
    )
    terms_text = forms.CharField(
        label=_("Program terms"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea,
        help_text=_(
            "Changed terms are a new version: every participant is asked to accept them at "
            "their next visit."
        ),
    )

    # The platform site's directory of participating cities (Department.listed). Two choices
    # rather than a checkbox: a form sent without the field (an older page) changes nothing.
    listed = forms.TypedChoiceField(
        label=_("Directory of participating cities"),
        choices=[
            (True, _("List our program in the directory")),
            (False, _("Do not list our program")),
        ],
        coerce=lambda value: value == "True",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "The platform site's directory shows your program's name, city, state, logo and a "
            "link to this portal, so that residents can find it. Not listed, residents reach "
            "your portal only through your own links."
        ),
    )

    # Residents' privacy and contact pages (portal.residents.account_views): empty, the pages
    # say what the system itself does and how it is reached.
    privacy_en = forms.CharField(
        label=_("Privacy notice (English)"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea,
        help_text=_(
            "Shown on your portal's privacy page above the program terms. Left empty, the page "
            "explains what the registry keeps, who sees it and how residents leave."
        ),
    )
    privacy_es = forms.CharField(
        label=_("Privacy notice (Spanish)"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea,
        help_text=_("Left empty, Spanish readers see the English notice."),
    )
    contact_en = forms.CharField(
        label=_("Contact page text (English)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea,
        help_text=_("For example your unit's address and office hours."),
    )
    contact_es = forms.CharField(
        label=_("Contact page text (Spanish)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea,
        help_text=_("Left empty, Spanish readers see the English text."),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    contact_email = forms.EmailField(
        label=_("Contact email"),
        max_length=254,
        required=False,
        help_text=_("Left empty, the contact page shows your reply-to address, if you set one."),
    )

    # The names Spanish-speaking visitors read (Department.name_in, Branding.display_name_in).
    name_es = forms.CharField(
        label=_("Department name in Spanish"),
        max_length=100,
        required=False,
        help_text=_(
            "For visitors who read the portal in Spanish, e.g. Departamento de Policía de "
            "Concord. Empty: the official name."
        ),
    )
    display_name_es = forms.CharField(
        label=_("Program name in Spanish"),
        max_length=100,
        required=False,
        help_text=_("Empty: the program name above, in both languages."),
    )

    BRANDING_FIELDS = (
        "display_name",
        "primary_color",
        "accent_color",
        "welcome_en",
        "welcome_es",
        "display_name_es",
        "name_es",  # the department's (department_settings_apply sets each on its own model)
    )
    PAGE_FIELDS = (
        "privacy_en",
        "privacy_es",
        "contact_en",
        "contact_es",
        "contact_phone",
        "contact_email",
    )

    @classmethod
    def initial_for(cls, department: Department) -> dict[str, Any]:
        branding = department.branding
        initial: dict[str, Any] = {
            name: getattr(department if name == "name_es" else branding, name)
            for name in (*cls.BRANDING_FIELDS, *cls.PAGE_FIELDS)
        }
        return initial | {
            "languages": branding.languages,
            "terms_text": department.program.terms_text,
            "listed": department.listed,
        }

    def changes(self) -> dict[str, Any]:
        """The branding's cleaned values and, when the form sent it, the directory listing."""
        data = self.cleaned_data
        changes = {name: data[name] for name in self.BRANDING_FIELDS}
        # The page texts, when the form sent them (an older page without them changes nothing).
        changes |= {name: data[name] for name in self.PAGE_FIELDS if name in self.data}
        # The Spanish names came after the form's other fields: a form sent without them (an
        # older page) leaves them as they are.
        for name in ("name_es", "display_name_es"):
            if name not in self.data:
                changes.pop(name)
        if data["listed"] is not None:
            changes["listed"] = data["listed"]
        return changes


class GeocoderChoiceForm(FocusFirstErrorMixin, forms.Form):
    """Which service finds places by address for the department (Program.geocoder)."""

    geocoder = forms.ChoiceField(
        label=_("Address search"),
        choices=GEOCODER_CHOICES,
        widget=forms.RadioSelect,
        help_text=_(
            "Residents and staff type an address and choose from its suggestions; the map "
            "pin and the coordinates always work too."
        ),
    )


class IncidentEditForm(FocusFirstErrorMixin, forms.ModelForm):
    """What staff may change of a case (services.INCIDENT_EDITABLE): its number, offense
    type, description and time window. The place and radius stay: they decided whom the
    canvass listed and the notices reached."""

    starts_at = forms.DateTimeField(
        label=_("From"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT),
    )
    ends_at = forms.DateTimeField(
        label=_("Until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT),
    )

    class Meta:
        model = Incident
        fields = ["case_number", "category", "description", "starts_at", "ends_at"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, program: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = list(program.offence_type_choices())
        current = self.instance.category if self.instance else ""
        if current and current not in dict(choices):
            # A code since taken off the department's list stays choosable for its case.
            choices.append((current, current))
        self.fields["category"] = forms.ChoiceField(
            label=_("Offense type"),
            choices=choices,
            help_text=_("Recorded with the case number in every audit entry about this case."),
        )
        self.fields["description"].help_text = _(
            "For the staff who work the case; never sent to owners."
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at < starts_at:
            self.add_error("ends_at", _("The time window ends before it starts."))
        return data


# The key of a notice's confirmation page: random, URL-safe (services.notification_send).
NOTICE_KEY = r"^[A-Za-z0-9_-]{16,64}$"


class NotifyConfirmForm(NotifyForm):
    """The confirmation of an area notice: the message as typed, and the page's one-time key
    that makes sending it twice (a double click) send it once."""

    key = forms.RegexField(
        regex=NOTICE_KEY,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("This confirmation is not valid; ask again.")},
    )


class DistanceUnitsForm(FocusFirstErrorMixin, forms.Form):
    """How the department's distances are written and typed (Program.distance_units)."""

    distance_units = forms.ChoiceField(
        label=_("Distances"),
        choices=[
            (IMPERIAL, _("Feet and miles")),
            (METRIC, _("Meters and kilometers")),
        ],
        widget=forms.RadioSelect,
        help_text=_(
            "How staff and residents read and type distances: search radii, guardrails, "
            "notices and maps. Stored distances do not change."
        ),
    )
