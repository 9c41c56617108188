"""The vendor's queue of program requests (console.request_views), under console/requests/,
in the console namespace."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
