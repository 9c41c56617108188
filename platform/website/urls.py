"""The platform site's public pages (website.views)."""

from django.urls import path

from tenants.views import language_switch
from website import views

app_name = "website"
urlpatterns = [
    path("", views.home, name="home"),
    path("pricing/", views.pricing, name="pricing"),
    path("security/", views.security, name="security"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("docs/", views.docs_index, name="docs"),
    path("docs/<slug:slug>/", views.document, name="document"),
    path("language/", language_switch, name="language"),
]
