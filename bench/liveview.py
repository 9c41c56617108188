"""Live view end to end: Canvass's /media/auth, opening a live view to the first frame in
Chromium, and how soon the owner's pause, a grant's expiry and a viewer's deactivation cut the
frames at the relay.

In a throwaway database (`bench_live_` beside the project's), one department with an owner's
integrated camera (a paired device, its channel mapped, shared always), an operator who may
watch and the administrator. gunicorn with infra/gunicorn.conf.py serves the project on loopback
(DEBUG off, as bench/pages.py runs it); the media relay (`python -m relay`) and the Canvass bridge
(`python -m canvass_bridge run`, its camera an FFmpeg test pattern, 640x360 at 15 fps) run as
their own processes, as in production; Debian's Chromium is driven by Playwright.

Measured:
1. /media/auth's latency: N sequential HTTP POSTs of a valid "read" (a real grant's media
   token) with the relay's key; floors in the same run, interleaved: the same endpoint refusing
   a wrong key at once (nothing past the middleware and the host's department lookup) and a
   static file (WhiteNoise answers before that lookup); with persistent database connections
   (the deployment's default) and with one per request; and, in this process, the same requests
   through Django's test Client (no socket, no gunicorn) and media_authorize() called directly
   (the check alone), with its queries' own time;
2. "Open live view" to the first decoded frame: the click on the open form's submit to the
   page's video.currentTime > 0 (the bridge idle before each run: it publishes only for a grant);
3. revocation: the owner's pause (live_pause_set), the grant's expiry (expires_at set 2 s
   ahead) and the viewer's deactivation (staff_deactivate), each from the event to the last
   frame received by a second peer connection opened with the page's media token (no page
   script closes it: only the relay can stop its frames).

    .venv/bin/python manage.py collectstatic --noinput -v 0   # WhiteNoise serves .data/static
    .venv/bin/python bench/liveview.py
    .venv/bin/python bench/liveview.py --auth-requests 300 --runs 3

`--profile DIR` also keeps cProfiles of media_authorize() (DIR/liveview-auth.prof) and of the
valid read through Django's test Client (DIR/liveview-auth-request.prof), in this process.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import platform as platform_module
import random
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform"), str(ROOT / "bridge")]
# bench/ is on the path of a script run from it.
from benchlib import CENTRE, bench_department, percentile  # noqa: E402

KEY = "bench-media-auth-key"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ["MEDIA_AUTH_KEY"] = KEY
# This process's own connection kept, as the deployment's gunicorn workers keep theirs.
os.environ.setdefault("DB_CONN_MAX_AGE", "600")

HOST = "bench.localhost"
PASSWORD = "a-live-viewers-passphrase"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PATTERN = "lavfi:testsrc=size=640x360:rate=15"
# The relay and the bridge run from this checkout, installed or not.
PYTHONPATH = os.pathsep.join([str(ROOT / "platform"), str(ROOT / "bridge")])
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, every: float = 0.1
) -> float:
    """Seconds until `condition()` held; raises after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    raise RuntimeError(f"{what}: not within {timeout} s")


def totp_now() -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))


def relay_stats(relay: str) -> dict[str, int] | None:
    try:
        with urllib.request.urlopen(f"{relay}/healthz", timeout=1) as answer:
            return json.loads(answer.read())
    except OSError:
        return None


def publishers(relay: str) -> int:
    return (relay_stats(relay) or {}).get("publishers", -1)


def summary(values: list[float], unit: str = "s", digits: int = 2) -> str:
    return (
        f"{percentile(values, 0.5):.{digits}f} | {percentile(values, 0.95):.{digits}f} | "
        f"{max(values):.{digits}f} {unit}"
    )


# --- Canvass's world -----------------------------------------------------------------------


def staff_create(email: str, role: str) -> Any:
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import get_user_model

    from portal.registry.models import StaffMember

    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    TOTP.activate(user, TOTP_SECRET)
    return StaffMember.objects.create(user=user, role=role)


def live_camera_create() -> tuple[Any, Any, str]:
    """An owner with an integrated site, one camera shared always, a device heard from just
    now with its channel "ch1" mapped to the camera: (camera, device, credential)."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from portal.liveview.devices import sha256_hex
    from portal.liveview.models import Channel, Device, Sharing
    from portal.registry.models import Camera, Site
    from portal.registry.services import participant_create

    email = "olive.owner@bench.example.org"
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    site = Site.objects.create(
        participant=participant_create(user=user),
        kind=Site.Kind.HOME,
        address="1 Bench St",
        latitude=CENTRE[0],
        longitude=CENTRE[1],
        participation=Site.Participation.INTEGRATED,
        contact_name="Olive Owner",
        contact_phone="(501) 555-0142",
        contact_email=email,
        contact_method=Site.ContactMethod.PHONE,
        terms_version=1,
        terms_accepted_at=timezone.now(),
    )
    camera = Camera.objects.create(
        site=site,
        label="Porch",
        direction=90,
        sees=["street"],
        mount="wall",
        recording="motion",
        retention_days=14,
    )
    credential_id, secret = secrets.token_urlsafe(12), secrets.token_urlsafe(32)
    device = Device.objects.create(
        site=site,
        credential_id=credential_id,
        credential_hash=sha256_hex(secret),
        last_heartbeat_at=timezone.now(),
    )
    Channel.objects.create(device=device, key="ch1", name="Porch", camera=camera)
    Sharing.objects.create(camera=camera, mode=Sharing.Mode.ALWAYS, schedule=[])
    return camera, device, f"cvd_{credential_id}_{secret}"


# --- 1. /media/auth --------------------------------------------------------------------------


def post_auth(port: int, key: str, body: bytes) -> tuple[int, float]:
    """One POST /media/auth on a new connection (gunicorn's sync workers close each one):
    (status, milliseconds)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        "POST",
        f"/media/auth?key={key}",
        body=body,
        headers={"Host": HOST, "Content-Type": "application/json"},
    )
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer.status, (time.perf_counter() - started) * 1000


def answers(port: int) -> bool:
    try:
        return post_auth(port, "x", b"{}")[0] == 401
    except OSError:
        return False


def read_request(camera_id: int, token: str) -> dict[str, str]:
    """The relay's "read" question, as MediaMTX's `authMethod: http` shapes it."""
    return {
        "user": "",
        "password": "",
        "token": token,
        "ip": "127.0.0.1",
        "action": "read",
        "path": f"camera/{camera_id}",
        "protocol": "webrtc",
        "id": "",
        "query": "",
    }


def get_static(port: int) -> tuple[int, float]:
    """GET of a static file (WhiteNoise answers it before the department is looked up)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/static/portal/portal.css", headers={"Host": HOST})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer.status, (time.perf_counter() - started) * 1000


def auth_over_http(port: int, body: bytes, runs: int) -> dict[str, list[float]]:
    """Milliseconds of `runs` valid reads, wrong keys and static files, interleaved (all three
    see the same machine), after every gunicorn worker is warm."""
    kinds: dict[str, Callable[[], tuple[int, float]]] = {
        "valid": lambda: post_auth(port, KEY, body),
        "wrong key": lambda: post_auth(port, "wrong-key", body),
        "static": lambda: get_static(port),
    }
    expected = {"valid": 200, "wrong key": 401, "static": 200}
    for _ in range(30):
        for kind, request in kinds.items():
            assert request()[0] == expected[kind], kind
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(runs):
        for kind, request in kinds.items():
            status, ms = request()
            assert status == expected[kind], (kind, status)
            times[kind].append(ms)
    return times


def auth_in_process(
    department: Any, camera_id: int, token: str, runs: int, profile: Path | None
) -> list[str]:
    """The valid read through Django's test Client (no socket, no gunicorn), and
    media_authorize() alone: table rows."""
    from django.db import connection
    from django.test import Client
    from django_tenants.utils import tenant_context

    from portal.liveview.media import media_authorize

    # Django logs each 401 as a warning (django.request): gunicorn's go to its log file, these
    # would go to this terminal a thousand times.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    client = Client(HTTP_HOST=HOST)
    body = json.dumps(read_request(camera_id, token))
    in_client: list[float] = []
    in_client_refused: list[float] = []
    direct: list[float] = []
    path = f"camera/{camera_id}"
    with tenant_context(department):
        for _ in range(30):
            client.post(f"/media/auth?key={KEY}", body, content_type="application/json")
        for _ in range(runs):  # interleaved, as over HTTP
            started = time.perf_counter()
            answer = client.post(f"/media/auth?key={KEY}", body, content_type="application/json")
            in_client.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200
            started = time.perf_counter()
            answer = client.post("/media/auth?key=wrong-key", body, content_type="application/json")
            in_client_refused.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 401
        # The database's share of the check: the queries' own time, timed around each
        # execution (in a pass of its own: timing them costs a little).
        in_queries: list[float] = []
        calls = 0

        def timed_query(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal calls
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                in_queries[-1] += (time.perf_counter() - started) * 1000
                calls += 1

        with connection.execute_wrapper(timed_query):
            for _ in range(runs):
                in_queries.append(0.0)
                media_authorize(action="read", path=path, token=token)
        queries = calls // runs
        for _ in range(runs):
            started = time.perf_counter()
            media_authorize(action="read", path=path, token=token)
            direct.append((time.perf_counter() - started) * 1000)
        if profile is not None:
            import cProfile

            profile.mkdir(parents=True, exist_ok=True)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                media_authorize(action="read", path=path, token=token)
            profiler.disable()
            profiler.dump_stats(str(profile / "liveview-auth.prof"))
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                client.post(f"/media/auth?key={KEY}", body, content_type="application/json")
            profiler.disable()
            profiler.dump_stats(str(profile / "liveview-auth-request.prof"))
    return [
        auth_row(
            "in process, Django's test Client: the valid read (no socket, no gunicorn)",
            in_client,
            in_client_refused,
        ),
        auth_row(
            "in process, Django's test Client: a wrong key", in_client_refused, in_client_refused
        ),
        auth_row(f"in process, media_authorize() alone ({queries} queries)", direct),
        auth_row(f"in process, media_authorize()'s {queries} queries' own time", in_queries),
    ]


def auth_row(label: str, values: list[float], floor: list[float] | None = None) -> str:
    ratio = f"{percentile(values, 0.5) / percentile(floor, 0.5):.1f}x" if floor else ""
    return (
        f"| {label} | {percentile(values, 0.5):.2f} | {percentile(values, 0.95):.2f} | "
        f"{percentile(values, 0.99):.2f} | {ratio} |"
    )


# --- gunicorn, relay, bridge -------------------------------------------------------------------


class Process:
    """A subprocess for the length of a with-block, its output in a log file."""

    def __init__(self, command: list[str], environment: dict[str, str], log: Path) -> None:
        self.command, self.environment, self.log = command, environment, log

    def __enter__(self) -> Process:
        self.output = self.log.open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.environment, stdout=self.output, stderr=self.output
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.output.close()


def gunicorn(
    database_name: str, port: int, relay_port: int, log: Path, conn_max_age: str = "600"
) -> Process:
    from urllib.parse import urlsplit, urlunsplit

    from django.conf import settings

    def url(project_url: str) -> str:
        # The project's URL (the embedded server's socket in its query) for this database.
        return urlunsplit(urlsplit(project_url)._replace(path=f"/{database_name}"))

    environment = os.environ | {
        "DATABASE_URL": url(settings.DATABASE_URL),
        "DATABASE_OWNER_URL": url(settings.DATABASE_OWNER_URL),
        "DB_CONN_MAX_AGE": conn_max_age,
        "DEBUG": "false",
        "ALLOWED_HOSTS": ".localhost,localhost,127.0.0.1",
        "BIND": f"127.0.0.1:{port}",
        "CELERY_BROKER_URL": "",
        "MEDIA_AUTH_KEY": KEY,
        "MEDIA_RELAY_URL": f"http://{{host}}:{relay_port}",
        "PYTHONPATH": str(ROOT / "platform"),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "infra/gunicorn.conf.py", "canvass.wsgi"]
    return Process(command, environment, log)


def relay_process(port: int, canvass_port: int, log: Path) -> Process:
    command = [
        sys.executable,
        "-m",
        "relay",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--canvass-url",
        f"http://127.0.0.1:{canvass_port}",
    ]
    return Process(command, os.environ | {"MEDIA_AUTH_KEY": KEY, "PYTHONPATH": PYTHONPATH}, log)


def bridge_process(
    workdir: Path, portal: str, device: Any, credential: str, channel_key: str
) -> Process:
    from canvass_bridge.state import DeviceRecord, DeviceState

    state = DeviceState(workdir / "state")
    state.credential_store(credential)
    state.device_store(DeviceRecord(device.pk, portal, None, 30))
    config = workdir / "bridge.toml"
    config.write_text(
        f'portal_url = "{portal}"\nstate_dir = "{workdir / "state"}"\n'
        'connect_host = "127.0.0.1"\n\n'
        f'[[channels]]\nkey = "{channel_key}"\nname = "Porch"\nsource = "{PATTERN}"\n'
    )
    command = [sys.executable, "-m", "canvass_bridge", "--config", str(config), "run"]
    return Process(command, os.environ | {"PYTHONPATH": PYTHONPATH}, workdir / "bridge.log")


# --- the browser ----------------------------------------------------------------------------

VIDEO_TIME = (
    "(() => { const v = document.querySelector('#live-video'); return v ? v.currentTime : 0; })()"
)
# A second viewer of the same grant, opened with the page's own media token: no page script
# watches the grant for it, so only the relay can stop its frames.
PROBE_OPEN = """async () => {
  const root = document.getElementById('live-viewer');
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', {direction: 'recvonly'});
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(done => {
    if (pc.iceGatheringState === 'complete') { done(); return; }
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { done(); }
    });
    setTimeout(done, 2000);
  });
  const answer = await fetch(root.dataset.relay.replace(/\\/$/, '') + '/whep/camera/'
      + root.dataset.camera, {method: 'POST', body: pc.localDescription.sdp,
      headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer '
      + root.dataset.token}});
  if (answer.status !== 201) { return answer.status; }
  await pc.setRemoteDescription({type: 'answer', sdp: await answer.text()});
  window.canvassProbe = pc;
  return 201;
}"""
PROBE_FRAMES = """async () => {
  let frames = 0;
  (await window.canvassProbe.getStats()).forEach(report => {
    if (report.type === 'inbound-rtp' && report.kind === 'video') {
      frames = report.framesReceived || report.packetsReceived || 0;
    }
  });
  return frames;
}"""


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/2fa/" not in url)


# The page's own clock (ms since the navigation began, i.e. the form's submission): when the
# viewer page's HTML had arrived, when its DOM was ready, when the first frame was decoded.
NAVIGATION = """(() => { const n = performance.getEntriesByType('navigation')[0];
  return [n.responseEnd, n.domContentLoadedEventEnd]; })()"""


def open_to_first_frame(page: Any, base: str, camera_id: int, parts: list[list[float]]) -> float:
    """Seconds from the click on the open form's submit to the first decoded frame; appends to
    `parts` the page's own split: [until the viewer page's HTML arrived, from its DOM ready to
    the first frame], in seconds."""
    page.goto(f"{base}/department/live/cameras/{camera_id}/open/")
    page.select_option("select[name=reason]", "crime_in_progress")
    page.fill("input[name=case_number]", "BENCH-LIVE")
    started = time.monotonic()
    page.locator("main form button[type=submit]").click()
    first_frame = page.wait_for_function(
        # A function, not an expression: the page's CSP forbids eval.
        "() => { const v = document.querySelector('#live-video');"
        " return !!v && v.currentTime > 0 && performance.now(); }",
        polling=10,
        timeout=15_000,
    )
    total = time.monotonic() - started
    html, ready = page.evaluate(NAVIGATION)
    parts.append([html / 1000, (float(first_frame.json_value()) - ready) / 1000])
    return total


def probe_start(page: Any) -> None:
    first = float(page.evaluate(VIDEO_TIME))
    wait_until(lambda: float(page.evaluate(VIDEO_TIME)) > first + 0.5, 5, "video advancing")
    status = page.evaluate(PROBE_OPEN)
    if status != 201:
        raise RuntimeError(f"the probe's WHEP offer was answered {status}")
    wait_until(lambda: int(page.evaluate(PROBE_FRAMES)) > 10, 10, "frames at the probe", 0.05)


def seconds_until_frames_stop(page: Any, since: float, quiet: float = 1.5) -> float:
    """When the probe last received a frame, in seconds after `since` (a monotonic time):
    frames stopped once none arrived for `quiet` seconds."""
    last, last_change = int(page.evaluate(PROBE_FRAMES)), time.monotonic()
    while time.monotonic() - since < 15:
        time.sleep(0.02)
        now = int(page.evaluate(PROBE_FRAMES))
        if now != last:
            last, last_change = now, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            return max(0.0, last_change - since)
    raise RuntimeError("frames still arriving 15 s after the event")


# --- the run ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--auth-requests", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=8, help="opens, and each revocation")
    parser.add_argument("--profile", metavar="DIR", help="write DIR/liveview-auth*.prof")
    arguments = parser.parse_args()
    print("command:", shlex.join([".venv/bin/python", "bench/liveview.py", *sys.argv[1:]]))
    if not CHROMIUM.exists():
        sys.exit(f"Chromium is missing ({CHROMIUM}): run infra/browser-deps.sh")
    if not (ROOT / ".data" / "static" / "liveview").exists():
        sys.exit("Run `manage.py collectstatic --noinput` first: WhiteNoise serves .data/static.")

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, connections
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from portal.department.services import staff_deactivate
    from portal.liveview.media import media_token
    from portal.liveview.models import Grant
    from portal.liveview.owner import live_pause_set
    from portal.liveview.services import grant_close, grant_open
    from portal.registry.audit import Actor
    from portal.registry.models import StaffMember
    from tenants.database import throwaway_database
    from tenants.services import platform_site_ensure

    setup_test_environment(debug=False)
    settings.ALLOWED_HOSTS = ["*"]
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="canvass-bench-live-"))
    database = throwaway_database(prefix="bench_live_")
    name = database.__enter__()
    report: list[str] = []
    try:
        platform_site_ensure()
        department = bench_department(radius_m=22_000)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        with tenant_context(department):
            camera, device, credential = live_camera_create()
            viewer = staff_create("rita.rtcc@bench.example.org", "operator")
            admin = StaffMember.objects.get(user__email="chief@bench.example.org")
            owner = camera.site.participant
        connections.close_all()

        port, relay_port = free_port(), free_port()
        base = f"http://{HOST}:{port}"
        relay = f"http://127.0.0.1:{relay_port}"

        # 1. /media/auth, with nothing else running: one open grant, its media token.
        with tenant_context(department):
            grant = grant_open(
                actor=Actor.of_staff(viewer, "127.0.0.1"),
                camera=camera,
                reason="crime_in_progress",
                case_number="BENCH-AUTH",
            )
            token = media_token(grant)
        body = json.dumps(read_request(camera.pk, token)).encode()
        runs = arguments.auth_requests
        p95 = 0.0
        rows: list[str] = []
        # The deployment's default (persistent database connections), then one per request.
        for conn_max_age, mode in (("600", "persistent"), ("0", "one per request")):
            log = workdir / f"gunicorn-{conn_max_age}.log"
            with gunicorn(name, port, relay_port, log, conn_max_age):
                wait_until(lambda: answers(port), 60, "gunicorn up", 0.3)
                times = auth_over_http(port, body, runs)
            floor = times["wrong key"]
            p95 = p95 or percentile(times["valid"], 0.95)
            rows += [
                auth_row(f"HTTP, DB connections {mode}: a valid read", times["valid"], floor),
                auth_row(f"HTTP, DB connections {mode}: a wrong key (floor)", floor, floor),
                auth_row(f"HTTP, DB connections {mode}: a static file", times["static"], floor),
            ]
        rows += auth_in_process(
            department,
            camera.pk,
            token,
            runs,
            Path(arguments.profile) if arguments.profile else None,
        )
        with tenant_context(department):
            grant_close(actor=Actor.of_staff(viewer, "127.0.0.1"), grant=grant)
        connections.close_all()
        report += [
            f"/media/auth: {runs} sequential requests of each kind to gunicorn "
            f"(infra/gunicorn.conf.py, a new loopback connection each as its sync workers close "
            f"them), interleaved; target p95 < 5 ms with the deployment's persistent "
            f"connections: {'met' if p95 < 5 else 'MISSED'} ({p95:.2f} ms)",
            "",
            "| request | p50 ms | p95 ms | p99 ms | p50 / the wrong key's on the same path |",
            "|---|---:|---:|---:|---:|",
            *rows,
        ]

        # 2 and 3, in Chromium, with the relay and the bridge.
        with (
            gunicorn(name, port, relay_port, workdir / "gunicorn.log"),
            relay_process(relay_port, port, workdir / "relay.log"),
            bridge_process(workdir, base, device, credential, "ch1"),
        ):
            wait_until(lambda: answers(port), 60, "gunicorn up", 0.3)
            wait_until(lambda: relay_stats(relay) is not None, 20, "relay up", 0.2)
            wait_until(lambda: (relay_stats(relay) or {}).get("controls", 0) >= 1, 30, "bridge")
            report += browser_runs(
                arguments.runs,
                base,
                relay,
                department,
                camera,
                viewer,
                admin,
                owner,
                tenant_context=tenant_context,
                live_pause_set=live_pause_set,
                staff_deactivate=staff_deactivate,
                Actor=Actor,
                Grant=Grant,
                timezone=timezone,
            )
            connections.close_all()
    finally:
        connections.close_all()
        database.__exit__(None, None, None)
        shutil.rmtree(workdir, ignore_errors=True)

    load = os.getloadavg()
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}; {server}; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} at the start, "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    )
    print("\n".join(report))
    return 0


def browser_runs(
    runs: int,
    base: str,
    relay: str,
    department: Any,
    camera: Any,
    viewer: Any,
    admin: Any,
    owner: Any,
    **names: Any,
) -> list[str]:
    """Opens to the first frame, then each revocation `runs` times, in Chromium."""
    from playwright.sync_api import sync_playwright

    tenant_context, Actor, Grant = names["tenant_context"], names["Actor"], names["Grant"]
    timezone = names["timezone"]

    def latest_grant(staff: Any) -> Any:
        with tenant_context(department):
            return Grant.objects.filter(staff=staff).latest("opened_at")

    jitter = random.Random(10)

    def out_of_phase() -> None:
        # The relay re-checks every second, and idle() returns just after one of its checks
        # (the one that stopped the bridge): without a random wait every event would fall at
        # the same point of the relay's second.
        time.sleep(jitter.uniform(0, 1))

    def idle() -> None:
        # Each open starts from a bridge that publishes nothing (no grant: nothing is sent).
        wait_until(lambda: publishers(relay) == 0, 15, "the bridge stopping")

    opens: list[float] = []
    every_open: list[float] = []
    parts: list[list[float]] = []
    stops: dict[str, list[float]] = {"owner's pause": [], "grant's expiry": [], "deactivation": []}
    ended: dict[str, set[str]] = {kind: set() for kind in stops}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP *.localhost 127.0.0.1",
            ],
        )
        context = chromium.new_context(locale="en-US")
        context.set_default_timeout(20_000)
        page = context.new_page()
        sign_in(page, base, viewer.user.email)

        # 2. Open to the first frame; the viewer closes it with the page's own Close button.
        for _ in range(runs):
            idle()
            opens.append(open_to_first_frame(page, base, camera.pk, parts))
            page.locator("form[action$='/close/'] button[type=submit]").click()
            page.wait_for_url(re.compile(r"/department/live/$"))
        print("opens:", " ".join(f"{s:.2f}" for s in opens), flush=True)

        # 3. Revocations.
        for run in range(runs):
            idle()
            every_open.append(open_to_first_frame(page, base, camera.pk, parts))
            probe_start(page)
            out_of_phase()
            at = time.monotonic()
            with tenant_context(department):
                names["live_pause_set"](
                    actor=Actor.of_participant(owner, "127.0.0.1"), participant=owner, paused=True
                )
            stops["owner's pause"].append(seconds_until_frames_stop(page, at))
            ended["owner's pause"].add(latest_grant(viewer).ended_why)
            with tenant_context(department):
                names["live_pause_set"](
                    actor=Actor.of_participant(owner, "127.0.0.1"), participant=owner, paused=False
                )

            idle()
            every_open.append(open_to_first_frame(page, base, camera.pk, parts))
            probe_start(page)
            grant = latest_grant(viewer)
            out_of_phase()
            at, expires_at = time.monotonic() + 2, timezone.now() + timedelta(seconds=2)
            with tenant_context(department):
                Grant.objects.filter(pk=grant.pk).update(expires_at=expires_at)
            stops["grant's expiry"].append(seconds_until_frames_stop(page, at))
            ended["grant's expiry"].add(latest_grant(viewer).ended_why)

            # A viewer of their own each time: deactivation is for good.
            idle()
            with tenant_context(department):
                member = staff_create(f"dee{run}@bench.example.org", "operator")
            other = chromium.new_context(locale="en-US")
            other.set_default_timeout(20_000)
            tab = other.new_page()
            sign_in(tab, base, member.user.email)
            every_open.append(open_to_first_frame(tab, base, camera.pk, parts))
            probe_start(tab)
            out_of_phase()
            at = time.monotonic()
            with tenant_context(department):
                names["staff_deactivate"](actor=Actor.of_staff(admin, "127.0.0.1"), member=member)
            stops["deactivation"].append(seconds_until_frames_stop(tab, at))
            ended["deactivation"].add(latest_grant(member).ended_why)
            other.close()
            print(
                f"run {run + 1}:",
                ", ".join(f"{kind} {values[-1]:.2f} s" for kind, values in stops.items()),
                flush=True,
            )
        chromium.close()

    every_open += opens
    rows = [
        "",
        f"Open live view to the first decoded frame in Chromium (submit of the open form to "
        f"video.currentTime > 0; the bridge idle before each), target < 1 s: "
        f"{'met' if max(opens) < 1 else 'MISSED'}",
        "",
        "| measured | runs | p50 | p95 | max |",
        "|---|---:|---:|---:|---:|",
        f"| open to first frame, closed with the page's Close between runs | {len(opens)} | "
        f"{summary(opens)} |",
        f"| open to first frame, every open of this run | {len(every_open)} | "
        f"{summary(every_open)} |",
        f"| of which, in the page's clock: the submit to the viewer page's HTML received "
        f"(the POST, grant_open, the redirect, the page) | {len(parts)} | "
        f"{summary([html for html, _ in parts])} |",
        f"| of which, in the page's clock: the viewer page's DOM ready to the first frame "
        f"(the WHEP offer, the relay asking Canvass and starting the bridge, the bridge's WHIP, "
        f"ICE and DTLS, the first keyframe decoded) | {len(parts)} | "
        f"{summary([frame for _, frame in parts])} |",
    ]
    worst = max(percentile(values, 0.95) for values in stops.values())
    rows += [
        "",
        f"Revocation: the event to the last frame received at the probe, target p95 < 2 s: "
        f"{'met' if worst < 2 else 'MISSED'}",
        "",
        "| event | runs | p50 | p95 | max | grants ended as |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for kind, values in stops.items():
        rows.append(
            f"| {kind} | {len(values)} | {summary(values)} | {', '.join(sorted(ended[kind]))} |"
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
