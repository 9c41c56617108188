"""The platform site's pages through Django's full stack (host routing, middleware, the view):
each page as most visitors get it (kept per language, tenants.page_cache) and rendered afresh (a
visitor with a session cookie), against /health/live as the floor, in the same run. Django's
test client in this process, over the demo's database (`make demo` or `make setup` first).

    .venv/bin/python bench/website.py
    .venv/bin/python bench/website.py --runs 1000
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
from benchlib import percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

PAGES = ["/", "/pricing/", "/security/", "/docs/", "/docs/operations/"]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="timed requests per line")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from tenants.page_cache import pages_clear

    kept = Client(HTTP_HOST="localhost")
    fresh = Client(HTTP_HOST="localhost")
    # An unknown session key: no session is loaded, but the page is rendered every time.
    fresh.cookies[settings.SESSION_COOKIE_NAME] = "bench-no-such-session"

    def get(client: Client, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    lines: list[tuple[str, Client, str]] = [("`/health/live` (the floor)", kept, "/health/live")]
    for path in PAGES:
        lines += [(f"`{path}` kept", kept, path), (f"`{path}` rendered", fresh, path)]
    for _warm in range(20):  # connections, templates, the documents' first rendering
        for _name, _client, path in lines:
            get(fresh, path)
    pages_clear()
    # Interleaved, one request of each line in turn: the machine's other work weighs on all
    # lines alike.
    rows: list[tuple[str, list[float]]] = [(name, []) for name, _client, _path in lines]
    for _run in range(arguments.runs):
        for (_name, client, path), (_same, times) in zip(lines, rows, strict=True):
            started = time.perf_counter()
            get(client, path)
            times.append((time.perf_counter() - started) * 1000)

    floor = percentile(rows[0][1], 0.95)
    load = os.getloadavg()
    print(
        f"{platform_module.node()}: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {arguments.runs} requests a line"
    )
    print("| request | p50 ms | p95 ms | p95 / floor |")
    print("|---|---:|---:|---:|")
    for name, times in rows:
        p95 = percentile(times, 0.95)
        print(f"| {name} | {statistics.median(times):.2f} | {p95:.2f} | {p95 / floor:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
