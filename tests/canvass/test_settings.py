"""Production settings refuse to start without their secrets and pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 20 + "a-test-only-secret-key-that-is-long-and-random-4f9c2e",
    "ALLOWED_HOSTS": ".canvass.example",
    "DATABASE_URL": "postgres://canvass@127.0.0.1:5432/canvass",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def manage(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # As a server would start: none of the production variables, nor the browser tests' switch.
    unwanted = {*PRODUCTION, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unwanted}
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_its_secrets():
    result = manage("check", env={"DJANGO_ENV": "production"})
    assert result.returncode != 0
    assert (
        "DJANGO_ENV=production needs these environment variables: "
        "SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS, REDIS_URL"
    ) in result.stderr


def test_production_refuses_to_start_without_redis():
    # Without it each worker process would count failed sign-ins on its own.
    result = manage("check", env=PRODUCTION | {"REDIS_URL": ""})
    assert result.returncode != 0
    assert "needs these environment variables: REDIS_URL\n" in result.stderr


def test_production_names_only_the_missing_secret():
    env = PRODUCTION | {"SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "needs these environment variables: SECRET_KEY\n" in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text(PRODUCTION["SECRET_KEY"])
    env = PRODUCTION | {"SECRET_KEY": "", "SECRET_KEY_FILE": str(secret)}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr


def test_the_deploy_check_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_djangos_log_messages_are_printed_once():
    said = "import logging; logging.getLogger('django.utils.autoreload').info('said once')"
    result = manage(
        "shell",
        "-c",
        said,
        env={"DEBUG": "true", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/unused"},
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).count("said once") == 1
