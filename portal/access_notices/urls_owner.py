"""The owner's choice of how they are told of access, under /my/notices/."""

from django.urls import path

from portal.access_notices import views

app_name = "access_notices"
urlpatterns = [path("", views.preferences, name="preferences")]
