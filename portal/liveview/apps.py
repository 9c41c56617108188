from django.apps import AppConfig


class LiveViewConfig(AppConfig):
    name = "portal.liveview"
    label = "liveview"
    verbose_name = "Live view"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from portal.liveview import endings
        from portal.registry import signals
        from tenants.lifecycle import department_suspended

        # Every way a grant ends from outside live view (see portal/liveview/endings.py).
        user_logged_out.connect(endings.signed_out, dispatch_uid="liveview.signed_out")
        signals.staff_access_changed.connect(
            endings.staff_access_changed, dispatch_uid="liveview.staff_access"
        )
        signals.site_integration_changed.connect(
            endings.site_integration_changed, dispatch_uid="liveview.integration"
        )
        department_suspended.connect(
            endings.department_suspended, dispatch_uid="liveview.department_suspended"
        )
        for leaving in (signals.participant_opting_out, signals.participant_lapsing):
            leaving.connect(endings.participant_leaving, dispatch_uid="liveview.owner_leaving")

        # The demo: Little Rock's simulated bridges, and the relay beside the web server.
        from portal.liveview.demo import live_seed, live_services
        from tenants.demo import DEMO_SEEDERS, DEMO_SERVICES

        if live_seed not in DEMO_SEEDERS:
            DEMO_SEEDERS.append(live_seed)
        if live_services not in DEMO_SERVICES:
            DEMO_SERVICES.append(live_services)
