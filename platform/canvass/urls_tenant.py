"""URLs of a department's portal (its own schema), served on the department's domains."""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from portal.department import views as department_views
from tenants import views as tenants_views

urlpatterns = [
    path("", include("portal.residents.urls")),
    path("department/", include("portal.department.urls")),
    # An owner's answer to a department's notification, from the emailed link (no sign-in).
    path("answer/<str:token>/", department_views.answer, name="answer"),
    path("accounts/unlock/<str:token>/", tenants_views.account_unlock, name="account_unlock"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
