"""The device API's routes (portal.liveview.api), under api/device/v1/ on a city's host."""

from django.urls import path

from portal.liveview import api

app_name = "device_api"
urlpatterns = [
    path("claim", api.claim, name="claim"),
    path("heartbeat", api.heartbeat, name="heartbeat"),
    path("credential", api.credential, name="credential"),
    path("openapi.json", api.openapi, name="openapi"),
]
