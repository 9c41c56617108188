"""Vendor support on a city's host (console.city_views), included by canvass.urls_tenant."""

from django.urls import path

from console import city_views

app_name = "support"
urlpatterns = [
    path("support/enter/<str:token>/", city_views.enter, name="enter"),
    path("department/support/", city_views.sessions, name="sessions"),
    path("department/support/<int:session_id>/approve/", city_views.approve, name="approve"),
    path("department/support/<int:session_id>/end/", city_views.end, name="end"),
]
