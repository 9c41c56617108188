"""EMAIL_PROVIDER chooses how mail leaves, from the environment; production refuses a provider
without its key and webhook secret (read in a fresh interpreter, as a deployment reads them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = (
    "import json, django.conf as c; from canvass import settings as s; "
    "print(json.dumps({'backend': s.EMAIL_BACKEND, 'anymail': s.ANYMAIL}))"
)


def settings_with(**env):
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "DJANGO_ENV", "DEFAULT_FROM"))
    }
    base |= {
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}",
    }
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", READ],
        env=base | env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    return result


def test_development_prints_emails_on_the_console():
    result = settings_with()
    assert json.loads(result.stdout)["backend"] == "django.core.mail.backends.console.EmailBackend"


def test_a_provider_gets_its_backend_key_and_webhook_secret():
    result = settings_with(
        EMAIL_PROVIDER="postmark",
        EMAIL_API_KEY="server-token",
        EMAIL_WEBHOOK_SECRET="anymail:one,anymail:two",
    )
    read = json.loads(result.stdout)
    assert read["backend"] == "anymail.backends.postmark.EmailBackend"
    assert read["anymail"]["POSTMARK_SERVER_TOKEN"] == "server-token"
    assert read["anymail"]["WEBHOOK_SECRET"] == ["anymail:one", "anymail:two"]
    mailgun = json.loads(
        settings_with(
            EMAIL_PROVIDER="mailgun",
            EMAIL_API_KEY="key",
            EMAIL_API_URL="https://api.eu.mailgun.net/v3",
        ).stdout
    )
    assert mailgun["backend"] == "anymail.backends.mailgun.EmailBackend"
    assert mailgun["anymail"]["MAILGUN_API_KEY"] == "key"
    assert mailgun["anymail"]["MAILGUN_API_URL"] == "https://api.eu.mailgun.net/v3"


def test_production_refuses_a_provider_without_its_secrets_and_an_unknown_one():
    production = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": ".canvass.example",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    assert json.loads(settings_with(**production).stdout)["backend"].endswith("smtp.EmailBackend")
    refused = settings_with(**production, EMAIL_PROVIDER="sendgrid")
    assert refused.returncode != 0
    assert "EMAIL_PROVIDER=sendgrid needs EMAIL_API_KEY and EMAIL_WEBHOOK_SECRET" in refused.stderr
    unknown = settings_with(EMAIL_PROVIDER="carrier-pigeon")
    assert unknown.returncode != 0
    assert "EMAIL_PROVIDER='carrier-pigeon' is not known" in unknown.stderr
