from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Departments"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from tenants.middleware import hosts_changed
        from tenants.models import Branding, Department, Domain, Program

        # Whatever the host lookup keeps (tenants.middleware.department_for_host).
        for model in (Department, Domain, Branding, Program):
            post_save.connect(hosts_changed, sender=model, dispatch_uid=f"hosts.{model.__name__}")
            post_delete.connect(
                hosts_changed, sender=model, dispatch_uid=f"hosts.{model.__name__}.delete"
            )
