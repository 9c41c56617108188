from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Vendor console"

    def ready(self) -> None:
        # Billing (a lower layer) asks the console who runs billing: vendor roles decide.
        from billing import licenses
        from console.access import billing_staff_emails

        licenses.billing_staff_finder = billing_staff_emails
