"""The demo departments: Concord, Carrollton and Little Rock with their real city centres.

Later features add demo data by appending a function to DEMO_SEEDERS (from their app's ready());
each is called once per demo department inside that department's schema, must be idempotent,
and returns lines to print (such as demo sign-in details).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractUser, Permission
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

from tenants.models import Branding, Department
from tenants.services import Provisioned, department_provision


@dataclass(frozen=True)
class DemoCity:
    subdomain: str
    name: str
    city: str
    state: str
    time_zone: str
    display_name: str
    center: tuple[float, float]
    service_radius_m: int
    goal_camera_count: int
    primary_color: str
    accent_color: str
    languages: tuple[str, ...]
    welcome_en: str
    welcome_es: str = ""
    initials: str = field(default="")
    # The names for Spanish-speaking visitors (Department.name_es, Branding.display_name_es).
    name_es: str = ""
    display_name_es: str = ""


DEMO_CITIES = [
    DemoCity(
        subdomain="concord",
        name="Concord Police Department",
        city="Concord",
        state="NC",
        time_zone="America/New_York",
        display_name="Concord Community Camera Registry",
        center=(35.4088, -80.5795),
        service_radius_m=16_000,
        goal_camera_count=500,
        primary_color="#003f72",
        accent_color="#f2a900",
        languages=("en", "es"),
        welcome_en=(
            "Register your home or business security camera with the Concord Police "
            "Department. We keep a confidential map of camera locations so that, after an "
            "incident or when someone goes missing nearby, an officer can call you and ask "
            "for a copy of your footage. We never get live access to your camera, and you "
            "can leave at any time."
        ),
        welcome_es=(
            "Registre la cámara de seguridad de su casa o negocio con el Departamento de "
            "Policía de Concord. Guardamos un mapa confidencial de las cámaras para que, "
            "después de un incidente o cuando alguien desaparece cerca, un agente pueda "
            "llamarle y pedirle una copia de su video. Nunca tenemos acceso en vivo a su "
            "cámara y puede salir del programa en cualquier momento."
        ),
        initials="CPD",
        name_es="Departamento de Policía de Concord",
        display_name_es="Registro Comunitario de Cámaras de Concord",
    ),
    DemoCity(
        subdomain="carrollton",
        name="Carrollton Police Department",
        city="Carrollton",
        state="GA",
        time_zone="America/New_York",
        display_name="Carrollton Community Camera Partnership",
        center=(33.5801, -85.0766),
        service_radius_m=12_000,
        goal_camera_count=400,
        primary_color="#7a1f2b",
        accent_color="#c99700",
        languages=("en",),
        welcome_en=(
            "Partner with the Carrollton Police Department: register your camera without "
            "granting any access, or choose to integrate live video for emergencies. Your "
            "data stays under your control, and every police access is monitored and recorded."
        ),
        initials="CPD",
    ),
    DemoCity(
        subdomain="littlerock",
        name="Little Rock Police Department",
        city="Little Rock",
        state="AR",
        time_zone="America/Chicago",
        display_name="Eyes on the Rock",
        center=(34.7465, -92.2896),
        service_radius_m=22_000,
        goal_camera_count=30_000,
        primary_color="#14532d",
        accent_color="#ea580c",
        languages=("en", "es"),
        welcome_en=(
            "Help us reach 30,000 cameras. Option 1: register your camera's location only. "
            "Option 2: integrate it for real-time access during emergencies. "
            "Your feed, your choice."
        ),
        welcome_es=(
            "Ayúdenos a llegar a 30.000 cámaras. Opción 1: registre solo la ubicación de su "
            "cámara. Opción 2: intégrela para acceso en tiempo real durante emergencias. "
            "Su video, su decisión."
        ),
        initials="LR",
        name_es="Departamento de Policía de Little Rock",
        display_name_es="Ojos en la Roca (Eyes on the Rock)",
    ),
]

# Functions called as seeder(department) inside each demo department's schema.
DEMO_SEEDERS: list[Callable[[Department], list[str]]] = []
# The same for the platform (public schema): called once, after the vendor's account exists.
DEMO_PLATFORM_SEEDERS: list[Callable[[], list[str]]] = []


@dataclass(frozen=True)
class DemoProcess:
    """A program the demo runs beside the web server (`manage.py demo --serve`), stopped with
    it: the media relay, the simulated bridges."""

    name: str
    argv: list[str]
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class DemoServices:
    """What a feature adds to the served demo: its processes, the web server's environment
    (e.g. where the relay is), and lines printed with the credentials (what runs, or why not)."""

    processes: list[DemoProcess] = field(default_factory=list)
    web_environment: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


# Functions called as services(port) by `manage.py demo --serve`, after seeding.
DEMO_SERVICES: list[Callable[[int], DemoServices]] = []


def demo_logo(city: DemoCity) -> ContentFile:
    """A simple badge in the city's colours, so each demo portal is recognisably its own."""
    size = 256
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        (4, 4, size - 4, size - 4), fill=city.primary_color, outline=city.accent_color, width=14
    )
    font = ImageFont.load_default(size=88 if len(city.initials) < 3 else 72)
    draw.text((size / 2, size / 2), city.initials, fill="#ffffff", font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=f"{city.subdomain}.png")


VENDOR_EMAIL = "vendor@canvass.example.org"
VENDOR_PASSWORD = "demo-vendor-staff"
# A fixed, published demo secret (base32) for every demo staff account's authenticator app.
DEMO_TOTP_SECRET = "CANVASSDEMOCANVASSDEMO234567ABCD"


BILLING_PERMISSION = ("billing", "run_billing")


def vendor_billing_grant(user: AbstractUser) -> None:
    """Let the vendor account run the billing console (billing.run_billing, named rather than
    imported: billing sits above tenants). Call in the public schema."""
    app_label, codename = BILLING_PERMISSION
    permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    user.user_permissions.add(permission)


def demo_administrator_email(city: DemoCity) -> str:
    return f"admin@{city.subdomain}.example.org"


def demo_administrator_password(city: DemoCity) -> str:
    return f"demo-{city.subdomain}-admin"


def demo_city_provision(city: DemoCity) -> Provisioned:
    """Provision (or bring up to date) one demo department through the provisioning service."""
    has_logo = (
        Branding.objects.filter(department__schema_name=city.subdomain).exclude(logo="").exists()
    )
    provisioned = department_provision(
        subdomain=city.subdomain,
        name=city.name,
        city=city.city,
        state=city.state,
        time_zone=city.time_zone,
        display_name=city.display_name,
        center_latitude=city.center[0],
        center_longitude=city.center[1],
        service_radius_m=city.service_radius_m,
        goal_camera_count=city.goal_camera_count,
        administrator_email=demo_administrator_email(city),
        administrator_password=demo_administrator_password(city),
        primary_color=city.primary_color,
        accent_color=city.accent_color,
        welcome_en=city.welcome_en,
        welcome_es=city.welcome_es,
        languages=city.languages,
        # A second run keeps the logo the first one made.
        logo=None if has_logo else demo_logo(city),
    )
    # The names Spanish-speaking visitors read (not the provisioning form's business).
    Department.objects.filter(schema_name=city.subdomain).update(name_es=city.name_es)
    Branding.objects.filter(department__schema_name=city.subdomain).update(
        display_name_es=city.display_name_es
    )
    return provisioned
