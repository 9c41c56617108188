from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from portal.demo import registry_seed
        from portal.department.demo import staff_seed
        from tenants.demo import DEMO_SEEDERS

        for seed in (staff_seed, registry_seed):
            if seed not in DEMO_SEEDERS:
                DEMO_SEEDERS.append(seed)
