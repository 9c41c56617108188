"""Demo registry data: a few hundred plausible sites per demo city, and residents who can sign in.

Registered as a demo seeder by portal.apps; the same data every time (seeded by city).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from portal.registry.models import Camera, Participant, Site
from portal.registry.services import participant_create, site_register
from tenants.models import Department, Program

DEMO_DOMAIN = "residents.example.org"


@dataclass(frozen=True)
class CityStreets:
    sites: int
    streets: tuple[str, ...]
    zips: tuple[str, ...]
    area_codes: tuple[str, ...]
    # Neighbourhood centres as (north km, east km) from the program's centre.
    neighbourhoods: tuple[tuple[float, float], ...]


CITY_STREETS = {
    "concord": CityStreets(
        sites=210,
        streets=(
            "Union St S",
            "Union St N",
            "Church St N",
            "Cabarrus Ave W",
            "Poplar Tent Rd",
            "Branchview Dr NE",
            "Corban Ave SE",
            "Warren C Coleman Blvd",
            "Kerr St NW",
            "Lake Concord Rd NE",
            "Old Charlotte Rd SW",
            "Wilshire Ave SW",
            "Bruton Smith Blvd",
        ),
        zips=("28025", "28027"),
        area_codes=("704", "980"),
        neighbourhoods=((0, 0), (2.5, -4), (-3, 3), (5, 6), (-6, -5)),
    ),
    "carrollton": CityStreets(
        sites=150,
        streets=(
            "Maple St",
            "Rome St",
            "Bankhead Hwy",
            "Newnan St",
            "Dixie St",
            "Alabama St",
            "Cedar St",
            "Lovvorn Rd",
            "S Park St",
            "Mandeville St",
            "Columbia Dr",
        ),
        zips=("30117", "30116"),
        area_codes=("770", "678"),
        neighbourhoods=((0, 0), (2, 2), (-2.5, -1.5), (3, -3)),
    ),
    "littlerock": CityStreets(
        sites=320,
        streets=(
            "Main St",
            "W Markham St",
            "Cantrell Rd",
            "Kavanaugh Blvd",
            "University Ave",
            "Asher Ave",
            "Geyer Springs Rd",
            "Chenal Pkwy",
            "Rodney Parham Rd",
            "W 12th St",
            "Baseline Rd",
            "Broadway St",
            "S Shackleford Rd",
            "Colonel Glenn Rd",
            "Fair Park Blvd",
        ),
        zips=("72201", "72202", "72204", "72205", "72207", "72209", "72211", "72223", "72227"),
        area_codes=("501",),
        neighbourhoods=((0, 0), (3, -6), (-4, -3), (1, -12), (-7, 2), (5, 4)),
    ),
}

FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Maria",
    "José",
    "Guadalupe",
    "Juan",
    "Ana",
    "Luis",
    "Carmen",
    "Jorge",
    "Sofía",
    "Andre",
    "Keisha",
    "Tyrone",
    "Latoya",
    "Minh",
    "Priya",
    "Wei",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Nguyen",
)
BUSINESSES = (
    "Pharmacy",
    "Hardware",
    "Barber Shop",
    "Tire & Auto",
    "Grocery",
    "Bakery",
    "Laundromat",
    "Dental Care",
    "Pizza",
    "Liquor Store",
    "Gas & Go",
    "Insurance",
    "Family Diner",
    "Florist",
)
OTHER_SITES = ("Baptist Church", "Community Center", "Elementary School", "Apartments Office")
HOURS = ("Weekdays after 5 pm", "Any time", "Mornings", "Weekends", "9 am to 6 pm", "")


def _point(program: Program, rng: random.Random, neighbourhoods: tuple) -> tuple[float, float]:
    """A point in the service area: mostly around a neighbourhood, some anywhere."""
    km_per_degree_lat = 111.2
    km_per_degree_lng = 111.2 * math.cos(math.radians(program.center_latitude))
    radius_km = program.service_radius_m / 1000
    while True:
        if rng.random() < 0.75:
            north, east = rng.choice(neighbourhoods)
            north, east = north + rng.gauss(0, 1.2), east + rng.gauss(0, 1.2)
        else:
            distance = radius_km * math.sqrt(rng.random()) * 0.95
            angle = rng.uniform(0, 2 * math.pi)
            north, east = distance * math.cos(angle), distance * math.sin(angle)
        latitude = program.center_latitude + north / km_per_degree_lat
        longitude = program.center_longitude + east / km_per_degree_lng
        if program.covers(latitude, longitude):
            return round(latitude, 6), round(longitude, 6)


def _phone(rng: random.Random, streets: CityStreets) -> str:
    # 555-01XX numbers are reserved for fiction and still valid numbers.
    return f"+1{rng.choice(streets.area_codes)}5550{rng.randint(100, 199)}"


def _cameras(rng: random.Random, kind: str) -> list[dict[str, object]]:
    business = kind != Site.Kind.HOME
    labels = (
        ("Entrance", "Parking lot", "Side door", "Register view")
        if business
        else ("Front porch", "Driveway", "Back yard", "Garage")
    )
    views = (
        (["entrance"], ["parking"], ["sidewalk", "entrance"], ["street", "parking"], ["alley"])
        if business
        else (["driveway"], ["street", "sidewalk"], ["driveway", "street"], ["alley"], ["entrance"])
    )
    count = rng.choice((1, 2, 2, 3, 4) if business else (1, 1, 2, 2, 3))
    return [
        {
            "label": labels[index % len(labels)],
            "direction": rng.randrange(0, 360, 5),
            "sees": rng.choice(views),
            "mount": rng.choice(
                ("wall", "ceiling", "pole")
                if business
                else ("wall", "doorbell", "ceiling", "window")
            ),
            "recording": rng.choice(
                ("continuous", "motion") if business else ("motion",) * 3 + ("continuous",)
            ),
            "retention_days": rng.choice((14, 30, 30, 60) if business else (3, 7, 7, 14, 30)),
            "night_vision": rng.random() < 0.85,
            "paused": rng.random() < 0.03,
        }
        for index in range(count)
    ]


def registry_seed(department: Department) -> list[str]:
    """Create the demo registry in the current (department) schema, once."""
    streets = CITY_STREETS.get(department.schema_name)
    if streets is None:
        return []
    program = department.program
    lines = _demo_residents(department, program, streets)
    if Participant.objects.filter(user__email__endswith=f"@{DEMO_DOMAIN}").count() > 2:
        return lines
    _bulk_sites(department, program, streets)
    return lines


@transaction.atomic
def _bulk_sites(department: Department, program: Program, streets: CityStreets) -> None:
    rng = random.Random(department.schema_name)
    now = timezone.now()
    user_model = get_user_model()
    unusable = make_password(None)
    plans = []
    for number in range(streets.sites):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        roll = rng.random()
        kind = (
            Site.Kind.HOME
            if roll < 0.75
            else Site.Kind.BUSINESS
            if roll < 0.95
            else Site.Kind.OTHER
        )
        street = rng.choice(streets.streets)
        organisation = (
            f"{street.split()[0] if kind == Site.Kind.BUSINESS else last} "
            f"{rng.choice(BUSINESSES if kind == Site.Kind.BUSINESS else OTHER_SITES)}"
            if kind != Site.Kind.HOME
            else ""
        )
        email = f"{first.lower()}.{last.lower()}{number}@{DEMO_DOMAIN}".replace("é", "e").replace(
            "í", "i"
        )
        plans.append((number, first, last, kind, street, organisation, email))

    users = user_model.objects.bulk_create(
        user_model(username=email, email=email, password=unusable)
        for (_n, _f, _l, _k, _s, _o, email) in plans
    )
    participants = []
    for user, (_n, _f, _l, _k, _s, organisation, _e) in zip(users, plans, strict=True):
        lapsed = rng.random() < 0.08
        if lapsed:
            confirmed = now - timedelta(
                days=365 + program.verification_grace_days + rng.randint(1, 60)
            )
        else:
            confirmed = now - timedelta(days=rng.randint(0, 360))
        participants.append(
            Participant(
                user=user,
                organisation_name=organisation,
                language="es" if rng.random() < 0.15 else "en",
                status=Participant.Status.LAPSED if lapsed else Participant.Status.ACTIVE,
                confirmed_at=confirmed,
                lapsed_at=confirmed + timedelta(days=365 + program.verification_grace_days)
                if lapsed
                else None,
            )
        )
    Participant.objects.bulk_create(participants)

    sites, cameras = [], []
    for participant, (_n, first, last, kind, street, _o, email) in zip(
        participants, plans, strict=True
    ):
        latitude, longitude = _point(program, rng, streets.neighbourhoods)
        site = Site(
            participant=participant,
            kind=kind,
            address=f"{rng.randint(10, 4999)} {street}, {department.city}, {department.state} "
            f"{rng.choice(streets.zips)}",
            latitude=latitude,
            longitude=longitude,
            contact_name=f"{first} {last}",
            contact_phone=_phone(rng, streets),
            contact_email=email,
            contact_method=rng.choice(("phone", "phone", "text", "email")),
            contact_hours=rng.choice(HOURS),
            paused=rng.random() < 0.03,
            terms_version=program.terms_version,
            terms_accepted_at=participant.confirmed_at,
            yard_sign_requested=rng.random() < 0.4,
        )
        sites.append(site)
        cameras.append(_cameras(rng, kind))
    Site.objects.bulk_create(sites)
    # Spread registrations over the past two years, so the dashboard shows the program growing.
    for months, chunk in enumerate(_chunks(sites, 24)):
        Site.objects.filter(pk__in=[site.pk for site in chunk]).update(
            created_at=now - timedelta(days=30 * (23 - months) + rng.randint(0, 29))
        )
    Camera.objects.bulk_create(
        Camera(site=site, **camera)
        for site, site_cameras in zip(sites, cameras, strict=True)
        for camera in site_cameras
    )


def _chunks(items: list[Site], count: int) -> list[list[Site]]:
    """items cut into count runs, growing towards the end as a young program's do."""
    weights = [1 + index for index in range(count)]
    total, runs, start = sum(weights), [], 0
    for weight in weights:
        end = start + round(len(items) * weight / total)
        runs.append(items[start:end])
        start = end
    runs[-1].extend(items[start:])
    return runs


def _demo_residents(department: Department, program: Program, streets: CityStreets) -> list[str]:
    """Two residents per city who can sign in: Maria (Spanish, a home), Sam (a business)."""
    password = f"demo-{department.schema_name}-resident"
    centre = (program.center_latitude, program.center_longitude)
    residents = [
        ("maria", "es", "", Site.Kind.HOME, 2, "Maria Lopez", "Front porch"),
        (
            "sam",
            "en",
            f"{department.city} Corner Market",
            Site.Kind.BUSINESS,
            3,
            "Sam Carter",
            "Entrance",
        ),
    ]
    lines = []
    for handle, language, organisation, kind, camera_count, name, label in residents:
        email = f"{handle}@{DEMO_DOMAIN}"
        phone = f"+1{streets.area_codes[0]}55501{42 if handle == 'maria' else 43}"
        user = get_user_model().objects.filter(email=email).first()
        if user is None:
            user = get_user_model().objects.create_user(
                username=email, email=email, password=password
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            participant = participant_create(
                user=user, organisation_name=organisation, language=language
            )
            offset = 0.004 if handle == "maria" else -0.003
            site_register(
                participant=participant,
                program=program,
                site={
                    "kind": kind,
                    "address": f"{'118 Elm St' if handle == 'maria' else '402 Main St'}, "
                    f"{department.city}, {department.state}",
                    "latitude": round(centre[0] + offset, 6),
                    "longitude": round(centre[1] + offset, 6),
                    "contact_name": name,
                    "contact_phone": phone,
                    "contact_email": email,
                    "contact_method": "text" if handle == "maria" else "phone",
                    "contact_hours": "Weekdays after 5 pm",
                    "yard_sign_requested": handle == "maria",
                },
                cameras=[
                    {
                        "label": label if index == 0 else f"Camera {index + 1}",
                        "direction": (90 * index) % 360,
                        "sees": ["street", "sidewalk"] if index == 0 else ["driveway"],
                        "mount": "wall",
                        "recording": "motion",
                        "retention_days": 14,
                        "night_vision": True,
                    }
                    for index in range(camera_count)
                ],
                language=language,
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        language_name = "Spanish" if language == "es" else "English"
        lines.append(f"resident: {email} / {password} ({language_name})")
    return lines
