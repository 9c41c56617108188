"""URLs of the platform site (public schema): the vendor's home page and console."""

from django.urls import include, path

# No uploads are served here: logos appear on the cities' own portals only.
urlpatterns = [
    path("", include("console.urls")),
    path("accounts/", include("allauth.urls")),
]
