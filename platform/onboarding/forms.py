"""The public program request form: types, choices and the checks a person is told at once;
onboarding.requests.program_request_submit decides the rest."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from onboarding.models import EXPECTED_CAMERAS_MAX, ProgramRequest
from onboarding.requests import subdomain_available
from portal.registry.forms import choices_set
from tenants.models import time_zone_names

# The states, the District of Columbia and the territories, by their postal codes.
US_STATES: list[tuple[str, str]] = [
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AS", "American Samoa"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("DC", "District of Columbia"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("GU", "Guam"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("MP", "Northern Mariana Islands"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("PR", "Puerto Rico"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UM", "U.S. Minor Outlying Islands"),
    ("VI", "U.S. Virgin Islands"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
]

# The zones of the United States and its territories, listed first.
US_TIME_ZONES: list[tuple[str, Any]] = [
    ("America/New_York", _("Eastern")),
    ("America/Chicago", _("Central")),
    ("America/Denver", _("Mountain")),
    ("America/Phoenix", _("Mountain, Arizona (no daylight saving time)")),
    ("America/Los_Angeles", _("Pacific")),
    ("America/Anchorage", _("Alaska")),
    ("Pacific/Honolulu", _("Hawaii")),
    ("America/Puerto_Rico", _("Atlantic (Puerto Rico, U.S. Virgin Islands)")),
    ("Pacific/Guam", _("Chamorro (Guam, Northern Mariana Islands)")),
    ("Pacific/Pago_Pago", _("Samoa")),
]

# Digits with the separators people write (+1 (704) 555-0100, 704.555.0100).
PHONE_CHARACTERS = re.compile(r"^[0-9+() .\-]+$")
PHONE_DIGITS_MIN, PHONE_DIGITS_MAX = 7, 20

# The live region next to the address field (onboarding/request.html, request.js).
SUBDOMAIN_STATUS_ID = "subdomain-status"

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def time_zone_choices() -> list[tuple[Any, Any]]:
    known = time_zone_names()
    united_states = [(zone, f"{label} ({zone})") for zone, label in US_TIME_ZONES if zone in known]
    listed = {zone for zone, _label in united_states}
    others = [(zone, zone) for zone in sorted(known - listed)]
    return [(_("United States"), united_states), (_("Other time zones"), others)]


def phone_validate(value: str) -> None:
    digits = sum(character.isdigit() for character in value)
    if not PHONE_CHARACTERS.match(value) or not PHONE_DIGITS_MIN <= digits <= PHONE_DIGITS_MAX:
        raise ValidationError(
            _(
                "Enter a phone number of 7 to 20 digits; you may use spaces, dashes, dots, "
                "parentheses and a leading +."
            ),
            code="phone_invalid",
        )


class SubdomainBoundField(forms.BoundField):
    """The address field is also described by the live region its check writes to."""

    @property
    def aria_describedby(self) -> str:
        return " ".join(filter(None, [super().aria_describedby, SUBDOMAIN_STATUS_ID]))


class ProgramRequestForm(forms.Form):
    """The fields of onboarding.requests.program_request_submit, with a honeypot."""

    agency_name = forms.CharField(
        label=_("Agency name"),
        min_length=2,
        max_length=100,
        help_text=_("The department's official name, e.g. Concord Police Department."),
    )
    city = forms.CharField(label=_("City"), max_length=100)
    state = forms.ChoiceField(label=_("State or territory"), choices=())
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=(), initial="America/New_York")
    contact_name = forms.CharField(label=_("Your name"), max_length=100)
    contact_title = forms.CharField(
        label=_("Your title"),
        max_length=100,
        help_text=_("For example: Lieutenant, Crime Analyst."),
    )
    contact_email = forms.EmailField(
        label=_("Work email"),
        max_length=150,
        help_text=_("We send a link to this address to confirm it."),
    )
    contact_phone = forms.CharField(
        label=_("Work phone"),
        max_length=32,
        validators=[phone_validate],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    expected_cameras = forms.IntegerField(
        label=_("Expected number of cameras"),
        min_value=0,
        max_value=EXPECTED_CAMERAS_MAX,
        help_text=_("A rough estimate of the cameras residents and businesses may register."),
    )
    wants_devices = forms.TypedChoiceField(
        label=_("Are you interested in integration devices (live video in emergencies)?"),
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    subdomain = forms.CharField(
        label=_("Portal address you would like"),
        max_length=30,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
        bound_field_class=SubdomainBoundField,  # type: ignore[call-arg]  # Django 5.2; stubs lag
    )
    purchasing = forms.ChoiceField(
        label=_("How do you buy?"),
        choices=ProgramRequest.Purchasing.choices,
        widget=forms.RadioSelect,
    )
    purchasing_note = forms.CharField(
        label=_("Purchasing details (optional)"),
        max_length=200,
        required=False,
        help_text=_("A cooperative contract's name or number, a purchase order process, etc."),
    )
    message = forms.CharField(
        label=_("Anything else we should know? (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    # Hidden from people (CSS, aria-hidden, out of the tab order); bots fill it in.
    homepage = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "state", [("", _("Choose…")), *US_STATES])
        choices_set(self, "time_zone", time_zone_choices())
        self.fields["subdomain"].help_text = _(
            "Your residents' portal will be at ADDRESS.%(domain)s: lowercase letters, digits "
            "and hyphens, starting with a letter, e.g. concord-pd."
        ) % {"domain": settings.CANVASS_BASE_DOMAIN}

    @property
    def is_bot(self) -> bool:
        """The honeypot was filled in (read before validation: a bot's other fields may be
        anything)."""
        return bool(self.data.get("homepage", "").strip())

    def clean_city(self) -> str:
        return " ".join(self.cleaned_data["city"].split())

    def clean_contact_phone(self) -> str:
        return str(self.cleaned_data["contact_phone"]).strip()

    def clean_subdomain(self) -> str:
        subdomain = str(self.cleaned_data["subdomain"]).strip().lower()
        subdomain_available(subdomain)
        return subdomain

    def submission(self) -> dict[str, Any]:
        """The cleaned fields as program_request_submit takes them."""
        return {name: value for name, value in self.cleaned_data.items() if name != "homepage"}
