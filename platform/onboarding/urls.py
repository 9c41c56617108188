"""The public program request (onboarding.views), under /request/."""

from django.urls import URLPattern

app_name = "onboarding"
urlpatterns: list[URLPattern] = []
