from django.apps import AppConfig


class GuardrailsConfig(AppConfig):
    name = "portal.guardrails"
    label = "guardrails"
    verbose_name = "Guardrails"

    def ready(self) -> None:
        # Counted on the city's transparency page (portal.transparency.providers).
        from portal.guardrails.selectors import (
            guardrail_changes_between,
            guardrail_exceptions_between,
        )
        from portal.transparency.providers import EXPECTED, register

        register(
            "guardrail_exceptions", EXPECTED["guardrail_exceptions"], guardrail_exceptions_between
        )
        register("guardrail_changes", EXPECTED["guardrail_changes"], guardrail_changes_between)
