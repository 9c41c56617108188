"""The vendor's queue of program requests (console.request_views), under console/requests/,
in the console namespace."""

from django.urls import URLPattern, path

from console import request_views

urlpatterns: list[URLPattern] = [
    path("", request_views.program_requests, name="program_requests"),
    path("<int:request_id>/", request_views.program_request, name="program_request"),
    path(
        "<int:request_id>/status/",
        request_views.program_request_status,
        name="program_request_status",
    ),
    path(
        "<int:request_id>/notes/", request_views.program_request_note, name="program_request_note"
    ),
]
