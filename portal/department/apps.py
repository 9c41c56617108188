from django.apps import AppConfig


class DepartmentConfig(AppConfig):
    name = "portal.department"
    label = "department"
    verbose_name = "Department console"
