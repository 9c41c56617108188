from django.apps import AppConfig


class CouncilReportsConfig(AppConfig):
    name = "portal.council_reports"
    label = "council_reports"
    verbose_name = "Council reports"
