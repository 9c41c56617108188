"""Provisioning a department from an approved program request (console.request_provision_views),
under console/requests/, in the console namespace."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
