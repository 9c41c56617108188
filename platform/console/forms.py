"""The vendor console's form for onboarding a department; the provisioning service decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from portal.registry.forms import choices_set
from tenants.models import LANGUAGE_CHOICES, Department, time_zone_names
from tenants.services import subdomain_validate


class DepartmentForm(forms.Form):
    """What `tenants.services.department_provision` needs, with the field names it reports
    errors under. Types are checked here; everything else by the service, in one place."""

    subdomain = forms.CharField(max_length=30)
    name = forms.CharField(label="Department name", max_length=100)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=2, help_text="Two letters, e.g. NC.")
    time_zone = forms.ChoiceField(choices=())
    display_name = forms.CharField(label="Program name", max_length=100)
    center_latitude = forms.FloatField(label="Centre latitude", min_value=-90, max_value=90)
    center_longitude = forms.FloatField(label="Centre longitude", min_value=-180, max_value=180)
    service_radius_m = forms.IntegerField(label="Service radius (m)", min_value=1)
    goal_camera_count = forms.IntegerField(label="Goal (cameras)", min_value=0, initial=0)
    primary_color = forms.CharField(
        label="Primary colour", initial="#1d4ed8", widget=forms.TextInput(attrs={"type": "color"})
    )
    accent_color = forms.CharField(
        label="Accent colour", initial="#f59e0b", widget=forms.TextInput(attrs={"type": "color"})
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
