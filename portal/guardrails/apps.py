from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuardrailsConfig(AppConfig):
    name = "portal.guardrails"
    label = "guardrails"
    verbose_name = "Guardrails"

    def ready(self) -> None:
        # Counted on the city's transparency page (portal.transparency.providers).
        from portal.guardrails.public import (
            guardrail_changes_since,
            guardrails_in_force,
            guardrails_stamp,
        )
        from portal.guardrails.selectors import (
            guardrail_changes_between,
            guardrail_exceptions_between,
        )
        from portal.transparency.providers import EXPECTED, RulesProvider, register, rules_register

        register(
            "guardrail_exceptions", EXPECTED["guardrail_exceptions"], guardrail_exceptions_between
        )
        register("guardrail_changes", EXPECTED["guardrail_changes"], guardrail_changes_between)
        # The rules in force and their changes, published on the same page.
        rules_register(
            "guardrails",
            RulesProvider(
                title=_("Guardrails the department set on its own access"),
                rules=guardrails_in_force,
                changes=guardrail_changes_since,
                stamp=guardrails_stamp,
            ),
        )
