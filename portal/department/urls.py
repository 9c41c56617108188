from django.urls import path

from portal.department import views

app_name = "department"
urlpatterns = [
    path("", views.home, name="home"),
    path("staff/", views.staff, name="staff"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/<int:incident_id>/", views.incident, name="incident"),
    path(
        "incidents/<int:incident_id>/sites/<int:site_id>/state/",
        views.canvass_entry,
        name="canvass_entry",
    ),
    path(
        "incidents/<int:incident_id>/sites/<int:site_id>/reveal/",
        views.reveal,
        name="reveal",
    ),
    path("audit/", views.audit, name="audit"),
]
