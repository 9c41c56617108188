"""The owner's device pages (portal.liveview.owner_views), under my/ on a city's portal."""

from django.urls import path

from portal.liveview import owner_views

app_name = "devices"
urlpatterns = [
    path("sites/<int:site_id>/devices/", owner_views.devices, name="site_devices"),
    path("sites/<int:site_id>/devices/code/", owner_views.claim_code_new, name="claim_code_new"),
    path("channels/<int:channel_id>/camera/", owner_views.channel_camera, name="channel_camera"),
    path("devices/<int:device_id>/remove/", owner_views.device_remove, name="device_remove"),
]
