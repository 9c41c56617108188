from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "portal.registry"
    label = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from portal.registry import bounces
        from portal.registry.demo import registry_seed
        from tenants.demo import DEMO_SEEDERS

        if registry_seed not in DEMO_SEEDERS:
            DEMO_SEEDERS.append(registry_seed)
        # The demo's address search: each demo city's local street list (offline).
        from portal.registry.geocoding import demo_gazetteer_use

        if demo_gazetteer_use not in DEMO_SEEDERS:
            DEMO_SEEDERS.append(demo_gazetteer_use)
        # The email provider's bounce and complaint reports, and the owner's address confirmed.
        bounces.connect()
