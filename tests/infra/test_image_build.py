"""The image's build, as far as it can go without Docker (not installed here): its build
context is copied as the COPY instructions and .dockerignore say, the build stage's RUN
instructions after the dependencies' run as written (this virtual environment standing in for
/opt/venv), and the result then serves as production does: the catalogue compiled, the static
files collected under hashed names and answered by WhiteNoise from gunicorn started through the
image's entrypoint and CMD."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.deployfiles import ROOT, copy_sources, dockerfile_instructions, dockerignored

VENV = Path(sys.executable).parent.parent


def stage_environment(stage: str, app: Path) -> dict[str, str]:
    """The stage's ENV instructions, with /app and /opt/venv standing for the copies here."""
    environment = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    for instruction in dockerfile_instructions():
        if instruction.stage != stage or instruction.keyword != "ENV":
            continue
        for pair in shlex.split(instruction.arguments):
            name, _, value = pair.partition("=")
            value = value.replace("$PATH", environment["PATH"])
            value = value.replace("/opt/venv", str(VENV)).replace("/app", str(app))
            environment[name] = value
    return environment


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    app = tmp_path_factory.mktemp("image") / "app"
    app.mkdir()

    def leave_out(directory: str, names: list[str]) -> list[str]:
        relative = Path(directory).relative_to(ROOT)
        return [name for name in names if dockerignored(str(relative / name))]

    for source in copy_sources(dockerfile_instructions()):
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, app / source, ignore=leave_out)
        else:
            shutil.copy2(ROOT / source, app / source)
    runs = [i for i in dockerfile_instructions() if i.stage == "build" and i.keyword == "RUN"]
    assert "pip install" in runs[0].arguments  # the dependencies: this environment has them
    environment = stage_environment("build", app)
    for run in runs[1:]:
        subprocess.run(["sh", "-c", run.arguments], cwd=app, env=environment, check=True)
    return app


def test_nothing_from_the_laptop_is_copied(image):
    assert not (image / ".venv").exists()
    assert not (image / "tests").exists()
    assert not list(image.rglob("infra/compose.env"))


def test_the_spanish_catalogue_is_compiled_in_the_image(image):
    assert (image / "portal" / "locale" / "es" / "LC_MESSAGES" / "django.mo").stat().st_size > 0


def test_static_files_are_collected_under_hashed_names(image):
    manifest = json.loads((image / ".data" / "static" / "staticfiles.json").read_text())
    assert len(manifest["paths"]) > 10
    hashed = manifest["paths"]["portal/portal.css"]
    assert hashed != "portal/portal.css"
    assert (image / ".data" / "static" / hashed).is_file()
    # WhiteNoise's compressed copy, served to browsers that accept gzip.
    assert (image / ".data" / "static" / f"{hashed}.gz").is_file()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def web(image, tmp_path) -> Iterator[str]:
    """gunicorn, as the image starts it (ENTRYPOINT and CMD), on a loopback port."""
    (entrypoint,) = [
        json.loads(i.arguments) for i in dockerfile_instructions() if i.keyword == "ENTRYPOINT"
    ]
    (command,) = [json.loads(i.arguments) for i in dockerfile_instructions() if i.keyword == "CMD"]
    port = free_port()
    environment = stage_environment("runtime", image) | {
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "SECRET_KEY": "test-only-" + "k" * 50,
        # Nothing below is contacted to serve a static file.
        "DATABASE_URL": "postgres://canvass_app@127.0.0.1:9/canvass",
        "ALLOWED_HOSTS": ".canvass.example",
        "REDIS_URL": "redis://127.0.0.1:9/0",
    }
    entrypoint[0] = entrypoint[0].replace("/app", str(image))
    process = subprocess.Popen(
        [*entrypoint, *command],
        cwd=image,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"gunicorn did not start:\n{process.communicate()[0]}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_image_serves_its_static_files_in_production(image, web):
    manifest = json.loads((image / ".data" / "static" / "staticfiles.json").read_text())
    request = urllib.request.Request(
        f"{web}/static/{manifest['paths']['portal/portal.css']}",
        headers={"Host": "concord.canvass.example", "X-Forwarded-Proto": "https"},
    )

    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/css")
        # Hashed names never change content: browsers keep them.
        assert "immutable" in response.headers["Cache-Control"]


def test_the_image_runs_canvass_from_its_own_copy(image):
    environment = stage_environment("runtime", image) | {
        "SECRET_KEY": "test-only-" + "k" * 50,
        "DATABASE_URL": "postgres://canvass_app@127.0.0.1:9/canvass",
        "ALLOWED_HOSTS": ".canvass.example",
        "REDIS_URL": "redis://127.0.0.1:9/0",
    }
    result = subprocess.run(
        [
            "python",
            "-c",
            "import canvass.wsgi, relay.__main__, tenants, portal, billing, console; "
            "print(canvass.wsgi.__file__, relay.__main__.__file__, tenants.__file__)",
        ],
        cwd=image,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr

    assert all(path.startswith(str(image)) for path in result.stdout.split())
