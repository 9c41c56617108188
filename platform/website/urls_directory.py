"""The directory of participating cities (website.directory), under /cities/."""

from django.urls import path

from website import directory

app_name = "directory"
urlpatterns = [
    path("", directory.index, name="index"),
    path("map.json", directory.map_data, name="map_data"),
]
