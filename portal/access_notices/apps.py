from django.apps import AppConfig


class AccessNoticesConfig(AppConfig):
    name = "portal.access_notices"
    label = "access_notices"
    verbose_name = "Owners' notices of access"

    def ready(self) -> None:
        # Counted on the city's transparency page (portal.transparency.providers).
        from portal.access_notices.selectors import notice_delays_between
        from portal.transparency.providers import EXPECTED, register

        register("notice_delays", EXPECTED["notice_delays"], notice_delays_between)
