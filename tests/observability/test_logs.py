"""JSON log lines as production writes them: each carries the request id, the department and
the user's role (never who they are), and no email or IP address, whatever the message held."""

from __future__ import annotations

import logging

from django_tenants.utils import schema_context

from canvass.celery import app
from canvass.observability.logs import scrub

EMAIL = "alice.moreno@example.org"
ADDRESS = "203.0.113.77"
ADDRESS6 = "2001:db8::7"


@app.task(name="tests.observability.log_line")
def log_line(text: str) -> None:
    logging.getLogger("tests.observability").warning("task says %s", text)


def leaks(lines: list[dict[str, object]]) -> list[str]:
    text = repr(lines)
    return [value for value in (EMAIL, ADDRESS, ADDRESS6, "alice.moreno") if value in text]


def test_a_residents_request_logs_its_id_department_and_role_and_no_personal_data(
    make_resident, json_log_lines
):
    resident = make_resident("concord", email=EMAIL)
    response = resident.client.get(
        f"/no-such-page/{EMAIL}/{ADDRESS}/", REMOTE_ADDR=ADDRESS, HTTP_X_REQUEST_ID="req-00000001"
    )
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-00000001"
    lines = json_log_lines()
    line = next(line for line in lines if line["logger"] == "django.request")
    assert line["level"] == "WARNING"
    assert line["request_id"] == "req-00000001"
    assert line["department"] == "concord"
    assert line["role"] == "resident"
    assert line["message"] == "Not Found: /no-such-page/[email]/[ip]/"
    assert {"time", "level", "logger", "message"} <= set(line)
    assert not leaks(lines)


def test_staff_and_vendor_requests_log_their_role(
    concord_client, platform_client, sign_in, concord_admin, vendor, json_log_lines
):
    sign_in(concord_client, concord_admin)
    sign_in(platform_client, vendor)
    concord_client.get("/department/no-such-page/")
    platform_client.get("/console/no-such-page/")
    lines = [line for line in json_log_lines() if line["logger"] == "django.request"]
    by_department = {line["department"]: line["role"] for line in lines}
    assert by_department["concord"] == "staff:administrator"
    assert by_department["public"].startswith("vendor:")
    assert not [line for line in lines if "example.org" in str(line)]


def test_a_request_id_that_is_not_an_identifier_is_replaced(concord_client, json_log_lines):
    response = concord_client.get("/nowhere/", HTTP_X_REQUEST_ID='x"\n{"level": "forged"}')
    generated = response["X-Request-ID"]
    assert len(generated) == 32 and generated.isalnum()
    line = next(line for line in json_log_lines() if line["logger"] == "django.request")
    assert line["request_id"] == generated
    assert line["role"] == "anonymous"


def test_each_request_has_its_own_id(concord_client):
    first = concord_client.get("/")["X-Request-ID"]
    second = concord_client.get("/")["X-Request-ID"]
    assert first != second


def test_a_log_call_with_personal_data_in_its_arguments_and_traceback_is_scrubbed(
    json_log_lines,
):
    logger = logging.getLogger("tests.observability")
    try:
        raise ValueError(f"duplicate key (email)=({EMAIL}) from {ADDRESS6}")
    except ValueError:
        logger.exception("signing in %s from %s", EMAIL, ADDRESS, extra={"who": EMAIL})
    lines = json_log_lines()
    line = next(line for line in lines if line["logger"] == "tests.observability")
    assert line["message"] == "signing in [email] from [ip]"
    assert "duplicate key (email)=([email]) from [ip]" in str(line["exc_info"])
    assert line["who"] == "[email]"
    assert not leaks(lines)


def test_a_tasks_lines_carry_its_id_and_its_departments_schema(json_log_lines):
    with schema_context("carrollton"):
        result = log_line.delay(f"hello {EMAIL}")
    line = next(line for line in json_log_lines() if line["logger"] == "tests.observability")
    assert line["message"] == "task says hello [email]"
    assert line["task_id"] == result.id
    assert line["department"] == "carrollton"
    assert line["role"] == "task"


def test_the_scrubber_keeps_what_is_not_personal():
    kept = "took 14:49:05 v1.2.3 /department/incidents/42/ sha256:abc"
    assert scrub(kept) == kept
    assert scrub("GET /answer/eyJ4IjoxfQ:1vN2:abcdef/ 200") == "GET /answer/[token]/ 200"
    assert scrub("from ::ffff:192.0.2.1 and fe80::1%eth0") == "from ::ffff:[ip] and [ip]"
    assert scrub("/media/auth?key=secret&x=1") == "/media/auth?key=[filtered]&x=1"


def test_text_lines_in_development_carry_the_context_and_are_scrubbed_too():
    from canvass.observability.logs import LogContextFilter, TextFormatter, log_context

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "from %s", (EMAIL,), None)
    with log_context(request_id="req-00000002", department="concord", role="resident"):
        LogContextFilter().filter(record)
    assert (
        TextFormatter()
        .format(record)
        .endswith("INFO x [concord resident req-00000002] from [email]")
    )
