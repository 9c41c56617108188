"""Published council reports on the city's portal, under /transparency/reports/ (no sign-in)."""

from django.urls import path

from portal.council_reports import views

app_name = "council_reports_public"
urlpatterns = [
    path("", views.published_list, name="reports"),
    path("<int:report_id>/", views.published_report, name="report"),
    path("<int:report_id>/pdf/", views.published_pdf, name="pdf"),
    path("<int:report_id>/verify/", views.published_verify, name="verify"),
]
