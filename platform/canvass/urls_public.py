"""URLs of the platform site (public schema): the vendor's home page and console, Stripe's
webhook and the email providers' (bounces and complaints)."""

from django.urls import include, path

from billing import views as billing_views
from canvass.email_webhooks import email_webhook
from tenants import views as tenants_views
from tenants.adapters import email_confirm

# No uploads are served here: logos appear on the cities' own portals only.
urlpatterns = [
    # The public site: what Canvass is, the directory of cities, the program request.
    path("", include("website.urls")),
    path("cities/", include("website.urls_directory")),
    path("request/", include("onboarding.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("console.urls")),
    path("stripe/webhook/", billing_views.stripe_webhook, name="stripe_webhook"),
    # The email provider's bounces and complaints (portal.registry.bounces).
    path("anymail/<slug:provider>/tracking/", email_webhook, name="email_webhook"),
    # allauth's confirm-email page, with keys that name their city (before allauth's own).
    path("accounts/confirm-email/<str:key>/", email_confirm, name="account_confirm_email"),
    path("accounts/unlock/<str:token>/", tenants_views.account_unlock, name="account_unlock"),
    path("accounts/", include("allauth.urls")),
]

# A database that does not answer gets the plain outage page (503, Retry-After), anything else
# the branded 500 page (canvass.outage, canvass.error_pages).
handler500 = "canvass.outage.server_error"
# 403 and 404 in the host's layout and the user's language, plain if that fails
# (canvass.error_pages).
handler403 = "canvass.error_pages.permission_denied"
handler404 = "canvass.error_pages.page_not_found"
