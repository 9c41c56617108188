from django.apps import AppConfig


class LiveViewConfig(AppConfig):
    name = "portal.liveview"
    label = "liveview"
    verbose_name = "Live view"

    def ready(self) -> None:
        from portal.liveview import signals

        signals.connect()
