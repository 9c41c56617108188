"""The administrator's council reports, under /department/reports/."""

from django.urls import path

from portal.council_reports import views

app_name = "council_reports"
urlpatterns = [
    path("", views.reports, name="reports"),
    path("<int:report_id>/", views.report, name="report"),
    path("<int:report_id>/publish/", views.publish, name="publish"),
    path("<int:report_id>/pdf/", views.pdf, name="pdf"),
]
