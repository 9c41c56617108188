from django.apps import AppConfig


class GuardrailsConfig(AppConfig):
    name = "portal.guardrails"
    label = "guardrails"
    verbose_name = "Guardrails"
