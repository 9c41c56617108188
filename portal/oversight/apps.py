from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "portal.oversight"
    label = "oversight"
    verbose_name = "Oversight (council and auditors)"
