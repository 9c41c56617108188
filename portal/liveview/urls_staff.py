"""The department console's live-view pages, under /department/live/ (names in the
department's namespace)."""

from django.urls import path

from portal.liveview import staff_views

urlpatterns = [
    path("", staff_views.live_cameras, name="live_cameras"),
    path("cameras.json", staff_views.live_cameras_data, name="live_cameras_data"),
    path("cameras/<int:camera_id>/open/", staff_views.grant_open, name="live_open"),
    path("grants/<int:grant_id>/", staff_views.grant_viewer, name="live_grant"),
    path("grants/<int:grant_id>/status.json", staff_views.grant_status, name="live_status"),
    path("grants/<int:grant_id>/renew/", staff_views.grant_renew, name="live_renew"),
    path("grants/<int:grant_id>/close/", staff_views.grant_close, name="live_close"),
]
