from django.apps import AppConfig


class AccessNoticesConfig(AppConfig):
    name = "portal.access_notices"
    label = "access_notices"
    verbose_name = "Owners' notices of access"
