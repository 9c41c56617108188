from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Program requests"

    def ready(self) -> None:
        from onboarding.demo import demo_requests_seed
        from tenants.demo import DEMO_PLATFORM_SEEDERS

        if demo_requests_seed not in DEMO_PLATFORM_SEEDERS:
            DEMO_PLATFORM_SEEDERS.append(demo_requests_seed)
