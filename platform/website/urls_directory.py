"""The directory of participating cities (website.directory), under /cities/."""

from django.urls import URLPattern

app_name = "directory"
urlpatterns: list[URLPattern] = []
