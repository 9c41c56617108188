from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing.demo import billing_seed
        from portal.registry.demo import registry_seed
        from tenants.demo import DEMO_SEEDERS

        # Billing's demo integrates sites the registry's demo made: the registry's seeder first
        # (billing's app is loaded before the registry's, so it places both).
        if registry_seed not in DEMO_SEEDERS:
            DEMO_SEEDERS.append(registry_seed)
        if billing_seed not in DEMO_SEEDERS:
            DEMO_SEEDERS.insert(DEMO_SEEDERS.index(registry_seed) + 1, billing_seed)
