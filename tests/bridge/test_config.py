"""The configuration file: the example one loads, and each mistake gets a message naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from canvass_bridge.config import ConfigError, load_config, parse_config
from canvass_bridge.logs import redact

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_configuration_loads():
    config = load_config(ROOT / "bridge" / "config.example.toml")

    assert config.portal_url == "https://littlerock.canvass.example"
    assert [channel.key for channel in config.channels] == ["front", "yard", "test"]
    front = config.channel("front")
    assert front is not None
    assert front.media_source() == (
        "rtsp://viewer:change-me@192.168.1.10:554/stream1",
        None,
        {"rtsp_transport": "tcp", "timeout": "5000000"},
    )
    test = config.channel("test")
    assert test is not None
    assert test.media_source() == ("testsrc=size=1280x720:rate=15", "lavfi", {})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "portal_url is missing"),
        ({"portal_url": "ftp://example"}, "must be an https:// address"),
        (
            {"portal_url": "https://x.example", "channels": [{"key": "a/b", "source": "lavfi:x"}]},
            "key must be",
        ),
        (
            {
                "portal_url": "https://x.example",
                "channels": [{"key": "a", "source": "/dev/video0"}],
            },
            "source must be an rtsp:// address",
        ),
        (
            {
                "portal_url": "https://x.example",
                "channels": [{"key": "a", "source": "lavfi:x"}, {"key": "a", "source": "lavfi:y"}],
            },
            "repeated: a",
        ),
        ({"portal_url": "https://x.example", "ice_servers": ["http://x"]}, "ice_servers"),
    ],
)
def test_a_wrong_configuration_is_refused_with_a_reason(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_a_missing_file_says_where_it_looked(tmp_path):
    with pytest.raises(ConfigError, match="No configuration file at"):
        load_config(tmp_path / "nowhere.toml")


def test_secrets_are_taken_out_of_log_lines():
    line = (
        "Authorization: Bearer cvd_AAAAAAAAAAAAAAAA_c2VjcmV0 for "
        "rtsp://admin:hunter2@192.168.1.10/s1"
    )
    assert redact(line) == "Authorization: Bearer *** for rtsp://admin:***@192.168.1.10/s1"
    assert redact("credential cvd_AAAA_BBBB refused") == "credential cvd_*** refused"


def test_connect_host_must_be_an_address() -> None:
    base = {"portal_url": "https://littlerock.canvass.example", "channels": []}
    assert parse_config({**base, "connect_host": "127.0.0.1"}).connect_host == "127.0.0.1"
    with pytest.raises(ConfigError, match="connect_host"):
        parse_config({**base, "connect_host": "littlerock.localhost"})
