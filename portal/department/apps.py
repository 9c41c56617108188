from django.apps import AppConfig


class DepartmentConfig(AppConfig):
    name = "portal.department"
    label = "department"
    verbose_name = "Department console"

    def ready(self) -> None:
        from portal.department.demo import staff_seed
        from portal.department.services import clip_names_forget, first_administrator_appoint
        from portal.department.setup import setup_checklist_start
        from portal.registry.signals import participant_opting_out
        from tenants.demo import DEMO_SEEDERS
        from tenants.services import administrator_provisioned

        if staff_seed not in DEMO_SEEDERS:
            DEMO_SEEDERS.insert(0, staff_seed)
        administrator_provisioned.connect(
            first_administrator_appoint, dispatch_uid="department.first_administrator"
        )
        administrator_provisioned.connect(
            setup_checklist_start, dispatch_uid="department.setup_checklist"
        )
        participant_opting_out.connect(clip_names_forget, dispatch_uid="department.clip_names")
