"""The owner's live-view page on a city's portal, under /my/live/."""

from django.urls import path

from portal.liveview import sharing_views

app_name = "live_sharing"
urlpatterns = [
    path("", sharing_views.live, name="live"),
    path("pause/", sharing_views.live_pause, {"paused": True}, name="pause"),
    path("resume/", sharing_views.live_pause, {"paused": False}, name="resume"),
    path("cameras/<int:camera_id>/", sharing_views.camera_sharing, name="camera_sharing"),
]
