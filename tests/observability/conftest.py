"""Fixtures of the observability tests: registry content in a city, the machine's Redis on this
area's own database (6), and JSON log lines captured as production writes them."""

from __future__ import annotations

import copy
import io
import json
import logging.config
import os
import socket
from collections.abc import Callable, Iterator

import pytest
from django_tenants.utils import schema_context

REDIS = ("127.0.0.1", 6379)
REDIS_URL = "redis://127.0.0.1:6379/6"


def sites_register(schema_name: str, count: int, *, paused: int = 0) -> None:
    """`count` sites of as many residents in the city, the first `paused` of them paused."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from portal.registry.models import Site
    from portal.registry.services import participant_create, site_register
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name=schema_name)
    with schema_context(schema_name):
        for number in range(count):
            email = f"metrics{number}@{schema_name}.example.org"
            user = get_user_model().objects.create_user(username=email, email=email)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            site = site_register(
                participant=participant_create(user=user),
                program=department.program,
                site={
                    "kind": "home",
                    "address": f"{number} Metrics St",
                    "latitude": department.program.center_latitude,
                    "longitude": department.program.center_longitude,
                    "contact_name": "M",
                    "contact_phone": "",
                    "contact_email": email,
                    "contact_method": "email",
                    "contact_hours": "",
                },
                cameras=[
                    {
                        "label": "c",
                        "direction": 0,
                        "sees": ["street"],
                        "mount": "wall",
                        "recording": "motion",
                        "retention_days": 7,
                        "night_vision": False,
                    }
                ],
                language="en",
            )
            if number < paused:
                Site.objects.filter(pk=site.pk).update(paused=True)


def searches_record(schema_name: str, count: int, *, action: str = "map_view") -> None:
    """`count` registry searches by a staff member, as the audit trail records them."""
    from portal.registry.audit import Actor, audit_record

    actor = Actor(email="investigator@police.example.org", role="investigator")
    with schema_context(schema_name):
        for _ in range(count):
            audit_record(actor=actor, action=action, reason="Map: exact site locations")


@pytest.fixture
def redis_db6() -> Iterator[object]:
    """The machine's Redis, database 6 (this area's), emptied before and after."""
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def json_log_lines(settings) -> Iterator[Callable[[], list[dict[str, object]]]]:
    """The project's LOGGING as production sets it (LOG_FORMAT=json), written to a buffer;
    calling the fixture's value returns the lines written so far, parsed."""
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["formatter"] = "json"
    logging.config.dictConfig(config)
    buffer = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)

    def lines() -> list[dict[str, object]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield lines
    logging.config.dictConfig(settings.LOGGING)
