"""The public program request (onboarding.views), under /request/."""

from django.urls import path

from onboarding import views

app_name = "onboarding"
urlpatterns = [
    path("", views.request_form, name="request"),
    path("sent/", views.request_sent, name="request_sent"),
    path("sent/again/", views.request_resend, name="request_resend"),
    path("subdomain/", views.subdomain_check, name="subdomain_check"),
    path("confirm/<str:token>/", views.request_confirm, name="request_confirm"),
]
