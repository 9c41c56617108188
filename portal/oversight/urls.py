from django.urls import path

from portal.oversight import views

app_name = "oversight"
urlpatterns = [
    path("", views.trail, name="trail"),
    path("entries/<int:entry_id>/", views.entry, name="entry"),
    path("entries/<int:entry_id>/flag/", views.entry_flag, name="flag"),
    path("entries/<int:entry_id>/findings/", views.finding_record, name="finding_record"),
    path("findings/", views.findings, name="findings"),
    path("findings/<int:finding_id>/resolve/", views.finding_resolve, name="finding_resolve"),
]
