"""`canvass-bridge run` as systemd runs it: a process that publishes on request and, on SIGTERM,
stops its streams and exits 0; and the unit file's promises (restart, own user, hardening)."""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bridge.conftest import ROOT

UNIT = ROOT / "bridge" / "canvass-bridge.service"


class UnitFile(configparser.ConfigParser):
    """systemd's keys are case-sensitive."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def wait_until(check, *, within: float) -> None:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, f"not true within {within} s"
        time.sleep(0.05)


def test_the_service_publishes_on_request_and_stops_cleanly_on_sigterm(config_file, state, stubs):
    process = subprocess.Popen(
        [sys.executable, "-m", "canvass_bridge", "--config", str(config_file), "run"],
        env={**os.environ, "PYTHONPATH": str(ROOT / "bridge")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: stubs.relay.hellos != [], within=8)
        stubs.call(stubs.relay.send({"type": "start", "channel": "front"}))
        wait_until(lambda: 1 in stubs.relay.publishers, within=5)
        wait_until(lambda: stubs.relay.publishers[1].frames >= 5, within=8)

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=8)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert stubs.relay.publishers[1].deleted
    assert "channel front: publishing" in output
    assert "channel front: stopped publishing (the bridge is stopping)" in output
    assert stubs.portal.credential not in output


def test_the_service_exits_3_when_its_credential_is_revoked(config_file, state, stubs):
    stubs.portal.revoked = True
    result = subprocess.run(
        [sys.executable, "-m", "canvass_bridge", "--config", str(config_file), "run"],
        env={**os.environ, "PYTHONPATH": str(ROOT / "bridge")},
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    assert result.returncode == 3
    assert "claim the device again" in result.stderr


def test_the_unit_restarts_the_bridge_as_its_own_user_with_hardening():
    unit = UnitFile(strict=False, interpolation=None)
    unit.read_string(UNIT.read_text())
    service = unit["Service"]

    assert service["Restart"] == "always"
    assert service["RestartPreventExitStatus"].split() == ["2", "3"]
    assert service["User"] == "canvass-bridge"
    assert service["StateDirectory"] == "canvass-bridge"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["CapabilityBoundingSet"] == ""
    assert service["ExecStart"].endswith(" run")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
def test_systemd_accepts_the_unit(tmp_path: Path):
    # The program's path is the installed one; verify the unit with a program that exists.
    text = UNIT.read_text().replace("/opt/canvass-bridge/venv/bin/canvass-bridge", "/bin/true")
    copy = tmp_path / "canvass-bridge.service"
    copy.write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr, result.stderr
