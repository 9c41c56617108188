"""The registry's forms: a site with its contact, and its cameras.

Every rule is checked here, on the server, with a message in the user's language; the resident
portal and the department's import both validate through them and pass only cleaned data to
portal.registry.services.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Container, Mapping, Sequence
from typing import Any

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import DELETION_FIELD_NAME
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.registry import geocoding
from portal.registry.models import Camera, Site
from tenants.models import Program
from tenants.units import format_distance


def choices_set(form: forms.BaseForm, name: str, choices: Sequence[tuple[Any, Any]]) -> None:
    """Set the choices of one of the form's choice fields."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def is_deleted(form: forms.BaseForm) -> bool:
    """Whether a formset's form is marked for deletion (its DELETE box ticked)."""
    return bool(form.cleaned_data.get(DELETION_FIELD_NAME))


class FocusFirstErrorMixin(forms.BaseForm):
    """After a failed submission, the first field in error gets focus (WCAG 3.3.1). Listed
    before the form class it is mixed into, so its full_clean runs around the form's."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["autofocus"] = True
                break


# A North American number written plainly ("(501) 555-0123", "+1 501.555.0123"): what
# phonenumbers.parse would read from it is plain to see, and parsing is most of its cost.
PLAIN_NANP_NUMBER = re.compile(r"(?:\+?1[ .-]*)?\(?([2-9]\d\d)\)?[ .-]*([2-9]\d\d)[ .-]*(\d{4})")


@functools.cache
def us_number_patterns() -> tuple[tuple[frozenset[int], re.Pattern[str]], ...]:
    """The US numbers' general and fixed-line descriptions from the library's metadata, as
    (possible lengths, compiled pattern); empty if either has no pattern. (The library looks its
    patterns up in re's cache and matches each twice, a prefix then in full, per number.)"""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("US")
    if metadata is None:
        return ()
    patterns = []
    for desc in (metadata.general_desc, metadata.fixed_line):
        if desc is None or not desc.national_number_pattern:
            return ()
        patterns.append((frozenset(desc.possible_length), re.compile(desc.national_number_pattern)))
    return tuple(patterns)


def us_fixed_line(national: str) -> bool:
    """Whether ten digits are a US fixed-line number by the library's own patterns (as its
    _is_number_matching_desc reads them: a possible length, then the whole pattern): a sure
    sign of a valid number, which is_valid_number_for_region would find only after trying
    eight rarer kinds of number first (premium rate, toll free, ...). Other numbers are asked
    the long way."""
    patterns = us_number_patterns()
    return bool(patterns) and all(
        (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None
        for lengths, pattern in patterns
    )


@functools.lru_cache(maxsize=4096)
def phone_normalise(value: str) -> str:
    """A US phone number in E.164 form, or a ValidationError that says what is wrong. (Cached:
    an import repeats a site's phone on each of its cameras' rows.)"""
    if plain := PLAIN_NANP_NUMBER.fullmatch(value):
        national = "".join(plain.groups())
        if us_fixed_line(national):
            return f"+1{national}"
        digits = int(national)
        read = phonenumbers.PhoneNumber(country_code=1, national_number=digits)
        # A number valid in the US is valid (the US comes first among +1's regions, which is
        # where is_valid_number would look first); others are asked the long way.
        if phonenumbers.is_valid_number_for_region(read, "US") or phonenumbers.is_valid_number(
            read
        ):
            return f"+1{digits}"
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.NOT_A_NUMBER:
            raise ValidationError(_("Enter a phone number, e.g. (704) 555-0142.")) from error
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("%(value)s cannot be a phone number; check the digits."), params={"value": value}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def contact_phone_clean(value: str) -> str:
    value = value.strip()
    return phone_normalise(value) if value else ""


# The forms' per-field cleaners (their clean_<field> methods call these), so that the import,
# which checks rows with the forms' fields without binding a form (registry_io.RowChecker),
# runs them too.
SITE_FIELD_CLEANERS: dict[str, Callable[[Any], Any]] = {"contact_phone": contact_phone_clean}
CAMERA_FIELD_CLEANERS: dict[str, Callable[[Any], Any]] = {}


class SiteForm(FocusFirstErrorMixin, forms.ModelForm):
    latitude = forms.FloatField(
        label=_("Latitude"),
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        help_text=_("Place the pin on the map, or type the coordinates."),
    )
    longitude = forms.FloatField(
        label=_("Longitude"),
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    accept_terms = forms.BooleanField(
        label=_("I agree to the program terms above."),
        required=True,
        error_messages={"required": _("You must agree to the terms to register.")},
    )

    class Meta:
        model = Site
        fields = [
            "kind",
            "address",
            "latitude",
            "longitude",
            "contact_name",
            "contact_phone",
            "contact_email",
            "contact_method",
            "contact_hours",
            "yard_sign_requested",
            "yard_sign_address",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "contact_method": forms.RadioSelect,
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "contact_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "contact_phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }
        help_texts = {
            "contact_hours": _("For example: weekdays after 5 pm."),
            "yard_sign_address": _("Leave empty to use the site's address."),
        }

    def __init__(
        self,
        *args: Any,
        program: Program,
        ask_terms: bool = True,
        locate_by_address: bool = False,
        **kwargs: Any,
    ) -> None:
        """`ask_terms`: whether consent to the current terms is asked for (always when
        registering; when editing, only if the terms changed since the site's consent).
        `locate_by_address`: the coordinates may be left empty, and the address is then looked
        up with the department's geocoder (the resident portal; an import gives coordinates)."""
        super().__init__(*args, **kwargs)
        self.program = program
        self.locate_by_address = locate_by_address
        # The address could not place the site: the page opens the coordinates for the pin.
        self.coordinates_wanted = False
        if locate_by_address:
            for name in ("latitude", "longitude"):
                self.fields[name].required = False
            self.fields["latitude"].help_text = _(
                "Optional: the pin on the map, or the address you typed, gives them."
            )
        if not ask_terms:
            del self.fields["accept_terms"]
        # Radio buttons without the model fields' empty choice.
        choices_set(self, "kind", Site.Kind.choices)
        choices_set(self, "contact_method", Site.ContactMethod.choices)

    def clean_contact_phone(self) -> str:
        return SITE_FIELD_CLEANERS["contact_phone"](self.cleaned_data["contact_phone"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        if self.locate_by_address:
            self._place_from_address()
        for name, message in site_problems(self.program, self.cleaned_data, self.errors):
            self.add_error(name, message)
        return self.cleaned_data

    def site_fields(self) -> dict[str, Any]:
        return site_fields_kept(self.cleaned_data, self.fields)

    def _place_from_address(self) -> None:
        """Coordinates left empty: the address's place, from the department's geocoder; when
        it cannot be found, a message asks for the pin."""
        data = self.cleaned_data
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if "latitude" in self.errors or "longitude" in self.errors:
            return
        if latitude is not None and longitude is not None:
            return
        if latitude is not None or longitude is not None:
            missing = "longitude" if longitude is None else "latitude"
            self.add_error(missing, _("Give both coordinates, or leave both empty."))
            return
        address = data.get("address")
        if not address:
            return  # the address's own "required" message says what to do
        if not geocoding.enabled(self.program):
            self.add_error("latitude", _("Place the pin on the map, or type the coordinates."))
            return
        try:
            place = geocoding.geocode(self.program, address)
        except geocoding.GeocoderUnavailable:
            self.coordinates_wanted = True
            self.add_error(
                "address",
                _("Address search is not available right now; place the pin on the map."),
            )
            return
        if place is None:
            self.coordinates_wanted = True
            self.add_error(
                "address",
                _("We could not find this address; check it, or place the pin on the map."),
            )
            return
        data["latitude"], data["longitude"] = place.latitude, place.longitude


def site_problems(
    program: Program, data: Mapping[str, Any], errors: Container[str]
) -> list[tuple[str, str]]:
    """SiteForm's rules across fields, as (field, message): the service area, and the contact
    method's details. `data` holds the fields that passed their own checks, `errors` names the
    ones that did not. (The import checks its rows with these too: registry_io.RowChecker.)"""
    problems: list[tuple[str, str]] = []
    latitude, longitude = data.get("latitude"), data.get("longitude")
    if latitude is not None and longitude is not None and not program.covers(latitude, longitude):
        problems.append(
            (
                "latitude",
                _(
                    "This location is outside the area this department serves; "
                    "place the pin within %(distance)s of the city center."
                )
                % {"distance": format_distance(program.service_radius_m, program.distance_units)},
            )
        )
    method = data.get("contact_method")
    wants_phone = method in (Site.ContactMethod.PHONE, Site.ContactMethod.TEXT)
    if wants_phone and not data.get("contact_phone") and "contact_phone" not in errors:
        problems.append(("contact_phone", str(_("Give a phone number to be called or texted."))))
    if method == Site.ContactMethod.EMAIL and not data.get("contact_email"):
        problems.append(("contact_email", str(_("Give an email address to be emailed."))))
    return problems


def site_fields_kept(cleaned: Mapping[str, Any], fields: Container[str]) -> dict[str, Any]:
    """A site's cleaned fields as they are saved: a yard sign's address only with a sign."""
    kept = {name: cleaned[name] for name in SiteForm.Meta.fields if name in fields}
    if not kept.get("yard_sign_requested"):
        kept["yard_sign_address"] = ""
    return kept


CAMERA_FIELDS = (
    "label",
    "direction",
    "sees",
    "mount",
    "recording",
    "retention_days",
    "night_vision",
)


# A direction outside the compass, or not a number: one message that says what to type.
DIRECTION_PROBLEM = _(
    "Enter the direction as a whole number of degrees from 0 to 359: "
    "0 is north, 90 east, 180 south and 270 west."
)

# What a new camera starts with: most cameras keep a month of video and record on motion.
CAMERA_DEFAULTS: dict[str, Any] = {
    "retention_days": 30,
    "recording": Camera.Recording.MOTION,
}


class CameraForm(FocusFirstErrorMixin, forms.ModelForm):
    direction = forms.IntegerField(
        label=pgettext_lazy("camera", "View direction (degrees)"),
        min_value=0,
        max_value=359,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("Compass degrees the camera faces: 0 north, 90 east, 180 south, 270 west."),
        error_messages={
            "invalid": DIRECTION_PROBLEM,
            "min_value": DIRECTION_PROBLEM,
            "max_value": DIRECTION_PROBLEM,
        },
    )
    retention_days = forms.IntegerField(
        label=_("Days of video kept"),
        min_value=1,
        max_value=365,
        initial=CAMERA_DEFAULTS["retention_days"],
        help_text=_("How many days of video the camera keeps before overwriting."),
    )
    sees = forms.MultipleChoiceField(
        label=_("What it sees"),
        choices=Camera.Sees.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one thing the camera sees.")},
    )

    class Meta:
        model = Camera
        fields = CAMERA_FIELDS
        widgets = {"recording": forms.RadioSelect}
        help_texts = {"label": _("For example: front porch.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "recording", Camera.Recording.choices)
        self.fields["recording"].initial = CAMERA_DEFAULTS["recording"]

    def has_changed(self) -> bool:
        """Whether the resident filled in this camera. A defaulted field left out of the
        submission (a client that sends only what was typed) is not a change: an offered,
        untouched extra camera form stays empty whichever way it comes back."""
        return any(
            name not in CAMERA_DEFAULTS or self[name].data not in (None, "")
            for name in self.changed_data
        )

    def camera_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CAMERA_FIELDS}


class BaseCameraFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        if not [form for form in self.forms if form.cleaned_data and not is_deleted(form)]:
            raise ValidationError(_("A site needs at least one camera."))


CameraFormSet = forms.inlineformset_factory(
    Site,
    Camera,
    form=CameraForm,
    formset=BaseCameraFormSet,
    extra=0,
    min_num=1,
    max_num=20,
    validate_max=True,
    can_delete=True,
)


# Editing offers one empty camera form beside the existing ones, to add a camera without JS.
CameraEditFormSet = forms.inlineformset_factory(
    Site,
    Camera,
    form=CameraForm,
    formset=BaseCameraFormSet,
    extra=1,
    max_num=20,
    validate_max=True,
    can_delete=True,
)
