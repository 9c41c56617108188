from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "portal.oversight"
    label = "oversight"
    verbose_name = "Oversight (council and auditors)"

    def ready(self) -> None:
        # Counted on the city's transparency page (portal.transparency.providers).
        from portal.oversight.selectors import (
            findings_recorded_between,
            findings_resolved_between,
        )
        from portal.transparency.providers import EXPECTED, register

        register("oversight_findings", EXPECTED["oversight_findings"], findings_recorded_between)
        register(
            "oversight_resolutions", EXPECTED["oversight_resolutions"], findings_resolved_between
        )
