from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "portal.transparency"
    label = "transparency"
    verbose_name = "Transparency"

    def ready(self) -> None:
        from portal.registry import signals
        from portal.transparency import services
        from portal.transparency.demo import transparency_seed
        from tenants.demo import DEMO_SEEDERS

        if transparency_seed not in DEMO_SEEDERS:
            # Last: after the other seeders made the history it counts.
            DEMO_SEEDERS.append(transparency_seed)

        # The scheduled audit-chain check (portal.registry.tasks.audit_verify) tells its verdict
        # upwards; the page publishes the latest one.
        signals.audit_chain_checked.connect(
            services.chain_check_record, dispatch_uid="transparency.chain_checked"
        )
