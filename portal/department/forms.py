"""Department console forms; every rule is checked here, on the server."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.department.models import CanvassEntry, Incident
from portal.registry.forms import FocusFirstErrorMixin
from portal.registry.models import StaffMember
from tenants.services import account_email_too_long

MAX_RADIUS_M = 20_000


class StaffInviteForm(FocusFirstErrorMixin, forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=StaffMember.Role.choices)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        # The account's username is its email: an address longer than a username cannot be one.
        if (too_long := account_email_too_long(email)) is not None:
            raise too_long
        return email


class IncidentForm(FocusFirstErrorMixin, forms.ModelForm):
    latitude = forms.FloatField(
        label=_("Latitude"),
        min_value=-90,
        max_value=90,
        required=False,
        help_text=_("Click the map, type the coordinates, or leave empty to look up the place."),
    )
    longitude = forms.FloatField(
        label=_("Longitude"), min_value=-180, max_value=180, required=False
    )
    radius_m = forms.IntegerField(
        label=_("Search radius (metres)"),
        min_value=1,
        max_value=MAX_RADIUS_M,
        initial=500,
        error_messages={
            "min_value": _("The radius must be at least 1 metre."),
            "max_value": _("A radius over 20 km would list a whole city; narrow it."),
        },
    )
    starts_at = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    class Meta:
        model = Incident
        fields = [
            "kind",
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

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at < starts_at:
            self.add_error("ends_at", _("The time window ends before it starts."))
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

    def _place_from_address(self, address: str) -> tuple[float | None, float | None]:
        """The incident's place looked up from its address, when a geocoder is configured."""
        from portal.registry import geocoding

        if not geocoding.enabled():
            self.add_error("latitude", _("Click the map or type the coordinates of the place."))
            return None, None
        if not address.strip():
            self.add_error("address", _("Give the address, or click the map."))
            return None, None
        try:
            found = geocoding.geocode(
                address, near=(self.program.center_latitude, self.program.center_longitude)
            )
        except geocoding.GeocoderUnavailable:
            found = None
            self.add_error("latitude", _("Address search is unavailable; click the map instead."))
            return None, None
        if found is None:
            self.add_error("address", _("No place found for this address; click the map."))
            return None, None
        return found


class CanvassEntryForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=CanvassEntry.State.choices)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        min_length=5,
        help_text=_(
            "Why you need this owner's contact details; it is recorded and the owner can see it."
        ),
    )


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


# Magic numbers of the formats owners may upload: MP4/MOV (ftyp box), WebM/MKV, AVI, JPEG, PNG.
SIGNATURES = (
    (4, b"ftyp", "video"),
    (0, b"\x1a\x45\xdf\xa3", "video"),
    (8, b"AVI ", "video"),
    (0, b"\xff\xd8\xff", "image"),
    (0, b"\x89PNG\r\n\x1a\n", "image"),
)


class ClipForm(forms.Form):
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
        head = upload.read(16)
        upload.seek(0)
        if not any(
            head[offset : offset + len(magic)] == magic for offset, magic, _kind in SIGNATURES
        ):
            raise forms.ValidationError(
                _("Only video (MP4, MOV, WebM, AVI) and images (JPEG, PNG) can be uploaded.")
            )
        return upload


class AuditFilterForm(forms.Form):
    """The audit page's filters, read from the query string; a value no entry could match (a
    NUL character, an over-long address, an unknown action) is refused with a message."""

    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Staff member"), max_length=254, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from portal.registry.models import AuditEntry

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("All")), *AuditEntry.Action.choices]
