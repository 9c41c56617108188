"""Provisioning a department from an approved program request (console.request_provision_views),
under console/requests/, in the console namespace."""

from django.urls import URLPattern, path

from console import request_provision_views

urlpatterns: list[URLPattern] = [
    path(
        "<int:request_id>/provision/",
        request_provision_views.program_request_provision_view,
        name="program_request_provision",
    ),
]
