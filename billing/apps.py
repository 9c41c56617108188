from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from billing.checkout import opt_out_received
        from billing.console import revenue_changed
        from billing.demo import billing_seed
        from billing.models import DevicePlan, PlanOffer, Subscription
        from portal.registry.demo import registry_seed
        from portal.registry.signals import participant_opting_out
        from tenants.demo import DEMO_SEEDERS
        from tenants.middleware import hosts_changed

        # Billing's demo integrates sites the registry's demo made: the registry's seeder first
        # (billing's app is loaded before the registry's, so it places both).
        if registry_seed not in DEMO_SEEDERS:
            DEMO_SEEDERS.append(registry_seed)
        if billing_seed not in DEMO_SEEDERS:
            DEMO_SEEDERS.insert(DEMO_SEEDERS.index(registry_seed) + 1, billing_seed)

        # Opting out cancels the owner's device subscriptions at Stripe in the same action.
        participant_opting_out.connect(opt_out_received, dispatch_uid="billing.opt_out")
        for signal in (post_save, post_delete):
            signal.connect(revenue_changed, sender=Subscription, dispatch_uid="billing.revenue")
            # The plans a city offers show on its landing page, which is kept for anonymous
            # visitors (tenants.page_cache): a change forgets the kept pages as a branding
            # change does.
            for model in (DevicePlan, PlanOffer):
                signal.connect(
                    hosts_changed,
                    sender=model,
                    dispatch_uid=f"billing.hosts.{model.__name__}.{signal is post_save}",
                )
