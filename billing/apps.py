from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing.checkout import opt_out_received
        from portal.registry.signals import participant_opting_out

        # Opting out cancels the owner's device subscriptions at Stripe in the same action.
        participant_opting_out.connect(opt_out_received, dispatch_uid="billing.opt_out")
