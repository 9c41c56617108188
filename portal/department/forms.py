"""Department console forms; every rule is checked here, on the server."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.department.models import CanvassEntry, Incident, StaffMember
from portal.forms import FocusFirstErrorMixin

MAX_RADIUS_M = 20_000


class StaffInviteForm(FocusFirstErrorMixin, forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=StaffMember.Role.choices)


class IncidentForm(FocusFirstErrorMixin, forms.ModelForm):
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
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
        if (
            latitude is not None
            and longitude is not None
            and not self.program.covers(latitude, longitude)
        ):
            self.add_error("latitude", _("This place is outside the department's service area."))
        return data


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


NOTIFY_DEFAULT = _(
    "The police department asks residents of this area to check their security cameras for "
    "anything unusual during the time below, and to tell us whether they saw something."
)


class NotifyForm(forms.Form):
    message = forms.CharField(
        label=_("Message to owners"),
        max_length=600,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Short and non-sensitive: no names, no details of the case."),
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
