from django.apps import AppConfig


class LiveViewConfig(AppConfig):
    name = "portal.liveview"
    label = "liveview"
    verbose_name = "Live view"
