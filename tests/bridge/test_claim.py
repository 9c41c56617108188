"""`canvass-bridge claim <CODE>` pairs the device: the credential lands in the state folder,
readable by the bridge's user only, and is never printed or logged."""

from __future__ import annotations

import json
import stat

from tests.bridge.conftest import CLAIM_CODE, DEVICE_ID, cli


def test_claim_stores_the_credential_privately_and_never_prints_it(config, config_file, stubs):
    result = cli("claim", CLAIM_CODE, config_file=config_file)

    assert result.returncode == 0, result.stderr
    assert f"device {DEVICE_ID}" in result.stdout
    credential_file = config.state_dir / "credential"
    assert credential_file.read_text().strip() == stubs.portal.credential
    assert stat.S_IMODE(credential_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.state_dir.stat().st_mode) == 0o700
    assert stubs.portal.credential not in result.stdout + result.stderr
    secret = stubs.portal.credential.rsplit("_", 1)[1]
    assert secret not in result.stdout + result.stderr
    device = json.loads((config.state_dir / "device.json").read_text())
    assert device["device_id"] == DEVICE_ID
    assert device["relay_url"] == stubs.relay_url
    assert stubs.portal.credential not in json.dumps(device)
    assert stubs.portal.claims[0]["code"] == CLAIM_CODE
    assert set(stubs.portal.claims[0]) == {"code", "bridge_version", "hostname"}


def test_a_wrong_code_is_refused_with_the_portals_reason_and_stores_nothing(
    config, config_file, stubs
):
    result = cli("claim", "WRONG-CODE", config_file=config_file)

    assert result.returncode == 2
    assert "This claim code is not valid." in result.stderr
    assert not (config.state_dir / "credential").exists()


def test_a_claimed_device_is_not_claimed_again_by_mistake(config, config_file, stubs):
    assert cli("claim", CLAIM_CODE, config_file=config_file).returncode == 0
    result = cli("claim", CLAIM_CODE, config_file=config_file)

    assert result.returncode == 2
    assert "already claimed" in result.stderr
    assert len(stubs.portal.claims) == 1
    assert cli("claim", "--replace", CLAIM_CODE, config_file=config_file).returncode == 0
    assert len(stubs.portal.claims) == 2


def test_status_shows_the_pairing_and_the_pause_without_secrets(config, config_file, stubs):
    assert cli("claim", CLAIM_CODE, config_file=config_file).returncode == 0
    assert cli("pause", config_file=config_file).returncode == 0
    config_file.write_text(
        config_file.read_text()
        + '\n[[channels]]\nkey = "gate"\nsource = "rtsp://admin:hunter2@192.168.1.10:554/s1"\n'
    )
    result = cli("status", config_file=config_file)

    assert result.returncode == 0, result.stderr
    assert f"device {DEVICE_ID}" in result.stdout
    assert "PAUSED" in result.stdout
    assert "rtsp://admin:***@192.168.1.10:554/s1" in result.stdout
    assert "hunter2" not in result.stdout
    assert stubs.portal.credential not in result.stdout


def test_rotate_replaces_the_credential(config, config_file, stubs):
    assert cli("claim", CLAIM_CODE, config_file=config_file).returncode == 0
    old = stubs.portal.credential
    result = cli("rotate", config_file=config_file)

    assert result.returncode == 0, result.stderr
    stored = (config.state_dir / "credential").read_text().strip()
    assert stored == stubs.portal.credential != old
    assert stored not in result.stdout + result.stderr
