from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "portal.transparency"
    label = "transparency"
    verbose_name = "Transparency"

    def ready(self) -> None:
        from portal.registry import signals
        from portal.transparency import services

        # The scheduled audit-chain check (portal.registry.tasks.audit_verify) tells its verdict
        # upwards; the page publishes the latest one.
        signals.audit_chain_checked.connect(
            services.chain_check_record, dispatch_uid="transparency.chain_checked"
        )
