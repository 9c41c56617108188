from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "portal.residents"
    label = "residents"
    verbose_name = "Resident portal"
