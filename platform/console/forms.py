"""The vendor console's form for onboarding a department; the provisioning service decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from portal.registry.forms import choices_set
from tenants.models import LANGUAGE_CHOICES, Department, time_zone_names
from tenants.services import subdomain_validate
from tenants.units import IMPERIAL, DistanceField


class DepartmentForm(forms.Form):
    """What `tenants.services.department_provision` needs, with the field names it reports
    errors under. Types are checked here; everything else by the service, in one place."""

    subdomain = forms.CharField(max_length=30)
    name = forms.CharField(label="Department name", max_length=100)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=2, help_text="Two letters, e.g. NC.")
    time_zone = forms.ChoiceField(choices=())
    display_name = forms.CharField(label="Program name", max_length=100)
    center_latitude = forms.FloatField(label="Center latitude", min_value=-90, max_value=90)
    center_longitude = forms.FloatField(label="Center longitude", min_value=-180, max_value=180)
    # Typed in miles (the department starts with feet and miles), stored in meters.
    service_radius_m = DistanceField(label="Service radius", long=True)
    goal_camera_count = forms.IntegerField(label="Goal (cameras)", min_value=0, initial=0)
    primary_color = forms.CharField(
        label="Primary color", initial="#1d4ed8", widget=forms.TextInput(attrs={"type": "color"})
    )
    accent_color = forms.CharField(
        label="Accent color", initial="#f59e0b", widget=forms.TextInput(attrs={"type": "color"})
    )
    languages = forms.MultipleChoiceField(
        choices=LANGUAGE_CHOICES, initial=["en", "es"], widget=forms.CheckboxSelectMultiple
    )
    welcome_en = forms.CharField(
        label="Welcome text (English)", required=False, widget=forms.Textarea
    )
    welcome_es = forms.CharField(
        label="Welcome text (Spanish)", required=False, widget=forms.Textarea
    )
    logo = forms.FileField(required=False, help_text="PNG, JPEG or WebP.")
    terms_text = forms.CharField(label="Terms", required=False, widget=forms.Textarea)
    administrator_email = forms.EmailField(
        label="First administrator's email",
        help_text="They get a link to choose their password.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "time_zone", [(zone, zone) for zone in sorted(time_zone_names())])
        self.fields["time_zone"].initial = "America/New_York"
        self.fields["subdomain"].help_text = (
            f"The portal's address: SUBDOMAIN.{settings.CANVASS_BASE_DOMAIN}; lowercase letters, "
            "digits and hyphens."
        )

    def clean_subdomain(self) -> str:
        subdomain = self.cleaned_data["subdomain"].strip().lower()
        schema_name = subdomain_validate(subdomain)
        # The service is idempotent (running it again updates a department); a new one may
        # not take an existing one's subdomain.
        existing = Department.objects.filter(schema_name=schema_name).first()
        if existing is not None:
            raise forms.ValidationError(
                "The subdomain “%(subdomain)s” is taken by %(department)s.",
                params={"subdomain": subdomain, "department": existing.name},
                code="subdomain_taken",
            )
        return subdomain


class DepartmentEditForm(forms.Form):
    """What vendor staff may change on a department (console.lifecycle.department_edit); the
    subdomain is fixed. Types here, every rule in the models through the service."""

    name = forms.CharField(label="Department name", max_length=100)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=2, help_text="Two letters, e.g. NC.")
    time_zone = forms.ChoiceField(choices=())
    # Two choices rather than a checkbox: a form sent without the field changes nothing.
    listed = forms.TypedChoiceField(
        label="Directory of participating cities",
        choices=[(True, "Listed"), (False, "Not listed")],
        coerce=lambda value: value == "True",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text="Whether the platform site's directory shows this program while it is active "
        "(its administrators can change it too).",
    )
    display_name = forms.CharField(label="Program name", max_length=100)
    primary_color = forms.CharField(
        label="Primary color", widget=forms.TextInput(attrs={"type": "color"})
    )
    accent_color = forms.CharField(
        label="Accent color", widget=forms.TextInput(attrs={"type": "color"})
    )
    languages = forms.MultipleChoiceField(
        choices=LANGUAGE_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    welcome_en = forms.CharField(
        label="Welcome text (English)", required=False, widget=forms.Textarea
    )
    welcome_es = forms.CharField(
        label="Welcome text (Spanish)", required=False, widget=forms.Textarea
    )
    logo = forms.FileField(required=False, help_text="PNG, JPEG or WebP; replaces the current one.")
    logo_clear = forms.BooleanField(label="Remove the logo", required=False)
    terms_text = forms.CharField(
        label="Terms",
        required=False,
        widget=forms.Textarea,
        help_text="A changed text is a new version: participants confirm it at their next visit.",
    )
    center_latitude = forms.FloatField(label="Center latitude", min_value=-90, max_value=90)
    center_longitude = forms.FloatField(label="Center longitude", min_value=-180, max_value=180)
    # Distances typed in the department's units (Program.distance_units), stored in meters.
    service_radius_m = DistanceField(label="Service radius", long=True)
    goal_camera_count = forms.IntegerField(label="Goal (cameras)", min_value=0)
    verification_notice_days = forms.IntegerField(
        label="Yearly confirmation: notice (days before)", min_value=0
    )
    verification_grace_days = forms.IntegerField(
        label="Yearly confirmation: grace period (days)", min_value=0
    )
    purge_after_days = forms.IntegerField(label="Purge lapsed registrations after (days)")
    search_radius_max_m = DistanceField(label="Largest canvass radius")
    live_grant_minutes = forms.IntegerField(label="Live view grant (minutes)")
    device_offline_minutes = forms.IntegerField(label="Device offline after (minutes)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "time_zone", [(zone, zone) for zone in sorted(time_zone_names())])
        units = self.initial.get("distance_units", IMPERIAL)
        for name in ("service_radius_m", "search_radius_max_m"):
            field = self.fields[name]
            assert isinstance(field, DistanceField)
            field.use_units(units)

    @staticmethod
    def initial_for(department: Department) -> dict[str, Any]:
        branding, program = department.branding, department.program
        initial: dict[str, Any] = {
            field: getattr(department, field)
            for field in ("name", "city", "state", "time_zone", "listed")
        }
        # Not a field: the units the distances below are typed in.
        initial["distance_units"] = program.distance_units
        initial |= {
            field: getattr(branding, field)
            for field in (
                "display_name",
                "primary_color",
                "accent_color",
                "welcome_en",
                "welcome_es",
                "languages",
            )
        }
        initial |= {
            field: getattr(program, field)
            for field in (
                "terms_text",
                "center_latitude",
                "center_longitude",
                "service_radius_m",
                "goal_camera_count",
                "verification_notice_days",
                "verification_grace_days",
                "purge_after_days",
                "search_radius_max_m",
                "live_grant_minutes",
                "device_offline_minutes",
            )
        }
        return initial

    def changes(self) -> dict[str, Any]:
        """The cleaned values the service takes as `changes`."""
        special = {"languages", "terms_text", "logo", "logo_clear"}
        changes = {name: value for name, value in self.cleaned_data.items() if name not in special}
        if changes.get("listed") is None:
            changes.pop("listed", None)  # not sent: unchanged
        return changes


class DomainAddForm(forms.Form):
    hostname = forms.CharField(
        label="Address",
        max_length=253,
        help_text="A host name the department's portal answers on, e.g. cameras.concordnc.gov "
        "(its DNS record and certificate are yours to set up).",
    )
    primary = forms.BooleanField(
        label="Make it the primary address (the one emails link to)", required=False
    )


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the platform audit log.",
    )


class DeleteForm(forms.Form):
    confirmation = forms.CharField(
        label="Type the department's subdomain to confirm", max_length=63, required=False
    )
