from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from portal.demo import registry_seed
        from tenants.demo import DEMO_SEEDERS

        if registry_seed not in DEMO_SEEDERS:
            DEMO_SEEDERS.append(registry_seed)
