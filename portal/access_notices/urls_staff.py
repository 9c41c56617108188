"""The console's pages of owners' notices, under /department/notices/."""

from django.urls import path

from portal.access_notices import views

app_name = "access_notices_staff"
urlpatterns = [
    path("settings/", views.delay_settings, name="settings"),
    path("incidents/<int:incident_id>/", views.delay, name="delay"),
    path("incidents/<int:incident_id>/close/", views.close, name="close"),
]
