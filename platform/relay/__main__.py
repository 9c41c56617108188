"""Run the relay: `python -m relay --host 127.0.0.1 --port 8890 --canvass-url
http://127.0.0.1:8000 --auth-key KEY` (or MEDIA_RELAY_CANVASS_URL / MEDIA_AUTH_KEY[_FILE])."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from aiohttp import web

from relay.authority import HttpAuthority
from relay.server import make_app


def env_secret(name: str) -> str:
    path = os.environ.get(f"{name}_FILE")
    return Path(path).read_text().strip() if path else os.environ.get(name, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m relay", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8890)
    parser.add_argument(
        "--canvass-url",
        default=os.environ.get("MEDIA_RELAY_CANVASS_URL", "http://127.0.0.1:8000"),
        help="where the relay asks Canvass (env MEDIA_RELAY_CANVASS_URL)",
    )
    parser.add_argument(
        "--auth-key",
        default=env_secret("MEDIA_AUTH_KEY"),
        help="Canvass's MEDIA_AUTH_KEY (env MEDIA_AUTH_KEY or MEDIA_AUTH_KEY_FILE)",
    )
    parser.add_argument(
        "--prefix",
        default=os.environ.get("MEDIA_RELAY_PREFIX", ""),
        help='path the TLS proxy serves the relay under, e.g. "/media"',
    )
    parser.add_argument(
        "--auth-timeout",
        type=float,
        default=1.0,
        help="seconds before an unanswered authorisation counts as refused",
    )
    parser.add_argument(
        "--ice-server",
        action="append",
        default=[],
        help="STUN/TURN URL for the relay's own candidates (repeatable)",
    )
    parser.add_argument(
        "--trusted-proxy-count",
        type=int,
        default=int(os.environ.get("TRUSTED_PROXY_COUNT") or 0),
        help="proxies in front of the relay that append to X-Forwarded-For (as Canvass's "
        "TRUSTED_PROXY_COUNT): the client's address is read through them",
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=arguments.log_level, format="%(asctime)s %(name)s %(message)s")
    if not arguments.auth_key:
        print("python -m relay: --auth-key or MEDIA_AUTH_KEY is required", file=sys.stderr)
        return 2
    authority = HttpAuthority(
        arguments.canvass_url, arguments.auth_key, timeout=arguments.auth_timeout
    )
    app = make_app(
        authority,
        prefix=arguments.prefix,
        ice_servers=tuple(arguments.ice_server),
        proxy_count=arguments.trusted_proxy_count,
    )
    web.run_app(app, host=arguments.host, port=arguments.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
