from django.apps import AppConfig


class CouncilReportsConfig(AppConfig):
    name = "portal.council_reports"
    label = "council_reports"
    verbose_name = "Council reports"

    def ready(self) -> None:
        from portal.council_reports.figures import chain_check_store
        from portal.registry.signals import audit_chain_checked

        audit_chain_checked.connect(chain_check_store, dispatch_uid="council_reports.chain")
