"""URLs of a department's portal (its own schema), served on the department's domains."""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from portal.department import views as department_views
from portal.liveview import media_views
from tenants import views as tenants_views
from tenants.adapters import email_confirm

urlpatterns = [
    path("", include("portal.residents.urls")),
    # Vendor support sessions: the entry link and the administrators' page (before the console's).
    path("", include("console.urls_city")),
    # The council's and auditors' reading of the audit trail (portal.oversight), before the
    # console's own routes.
    path("department/oversight/", include("portal.oversight.urls")),
    # Council reports: the administrator's (before the console's routes) and the published
    # ones (before the transparency page's "transparency/").
    path("department/reports/", include("portal.council_reports.urls")),
    path("transparency/reports/", include("portal.council_reports.urls_public")),
    path("department/notices/", include("portal.access_notices.urls_staff")),
    path("department/transparency/", include("portal.transparency.urls_console")),
    path("department/", include("portal.department.urls")),
    # The public transparency page and its data (no sign-in).
    path("transparency/", include("portal.transparency.urls")),
    # Live view: the owner's devices, and the API the devices themselves speak.
    path("my/", include("portal.liveview.urls_owner")),
    path("api/device/v1/", include("portal.liveview.urls_api")),
    path("my/live/", include("portal.liveview.urls_sharing")),
    path("my/notices/", include("portal.access_notices.urls_owner")),
    # The media relay's authorisation of every viewer, publisher and bridge (portal.liveview).
    path("media/auth", media_views.media_auth, name="media_auth"),
    # An owner's answer to a department's notification, from the emailed link (no sign-in).
    path("answer/<str:token>/", department_views.answer, name="answer"),
    # allauth's confirm-email page, with keys that name their city (before allauth's own).
    path("accounts/confirm-email/<str:key>/", email_confirm, name="account_confirm_email"),
    path("accounts/unlock/<str:token>/", tenants_views.account_unlock, name="account_unlock"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The portal's language switch (a GET form: the kept landing page carries no CSRF token).
    path("language/", tenants_views.language_switch, name="language"),
    # Logos are the only public uploads (tenants.models.logo_path), served here in development;
    # nothing else under MEDIA_URL is: evidence lives in private storage, read through the
    # audited download view.
    *static(f"{settings.MEDIA_URL}logos/", document_root=settings.MEDIA_ROOT / "logos"),
]

# A database that does not answer gets the plain outage page (503, Retry-After), anything else
# the branded 500 page (canvass.outage, canvass.error_pages).
handler500 = "canvass.outage.server_error"
# 403 and 404 in the host's layout and the user's language, plain if that fails
# (canvass.error_pages).
handler403 = "canvass.error_pages.permission_denied"
handler404 = "canvass.error_pages.page_not_found"
