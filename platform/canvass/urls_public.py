"""URLs of the platform site (public schema): the vendor's home page and console."""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from tenants import views as tenants_views

urlpatterns = [
    path("", include("console.urls")),
    path("accounts/unlock/<str:token>/", tenants_views.account_unlock, name="account_unlock"),
    path("accounts/", include("allauth.urls")),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
