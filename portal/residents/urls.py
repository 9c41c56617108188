from django.urls import path

from portal.residents import account_views, views

app_name = "portal"
urlpatterns = [
    path("", views.landing, name="landing"),
    path("register/", views.site_new, name="site_new"),
    path("my/", views.manage, name="manage"),
    path("my/sites/<int:site_id>/", views.site_edit, name="site_edit"),
    path("my/sites/<int:site_id>/integrate/", views.site_integrate, name="site_integrate"),
    path("my/sites/<int:site_id>/integrate/paid/", views.checkout_done, name="checkout_done"),
    path(
        "my/sites/<int:site_id>/integrate/cancelled/",
        views.checkout_cancelled,
        name="checkout_cancelled",
    ),
    path("my/billing/", views.billing_portal, name="billing_portal"),
    path("my/sites/<int:site_id>/pause/", views.site_pause, {"paused": True}, name="site_pause"),
    path("my/sites/<int:site_id>/resume/", views.site_pause, {"paused": False}, name="site_resume"),
    path(
        "my/cameras/<int:camera_id>/pause/",
        views.camera_pause,
        {"paused": True},
        name="camera_pause",
    ),
    path(
        "my/cameras/<int:camera_id>/resume/",
        views.camera_pause,
        {"paused": False},
        name="camera_resume",
    ),
    path("my/confirm/", views.confirm, name="confirm"),
    path("my/terms/", views.terms, name="terms"),
    path("my/access/", views.access, name="access"),
    path("my/leave/", views.leave, name="leave"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("geocode/", views.geocode, name="geocode"),
    path("geocode/reverse/", views.geocode_reverse, name="geocode_reverse"),
    # Residents' self-service (portal.residents.account_views).
    path("my/account/", account_views.account, name="account"),
    path(
        "my/account/data.json",
        account_views.data_download,
        {"file_format": "json"},
        name="data_json",
    ),
    path(
        "my/account/data.csv",
        account_views.data_download,
        {"file_format": "csv"},
        name="data_csv",
    ),
    path("my/requests/", account_views.requests_received, name="requests"),
    path(
        "my/requests/<int:recipient_id>/answer/",
        account_views.answer_change,
        name="answer_change",
    ),
    path("privacy/", account_views.privacy, name="privacy"),
    path("contact/", account_views.contact, name="contact"),
]
