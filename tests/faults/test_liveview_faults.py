"""Live view faults (issue 16, point 6), on the real media path: Canvass under gunicorn on a
private database, the relay process, the bridge process publishing an FFmpeg test pattern.

- The bridge's network cut (a proxy between bridge and relay resets every connection and
  refuses new ones) or the bridge killed: the relay closes the bridge's publisher and its
  viewers at once (not half a minute later on ICE consent), so the page sees the interruption;
  opening again while the bridge is away is "camera offline"; once the bridge is back, opening
  again gets frames, within the grant.
- The relay killed and started again: the bridge reconnects by itself, the viewer opens again
  and gets frames; the new relay asks /media/auth for everything: a grant revoked or expired
  during the outage is refused, nothing is published for it, no stream runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import PrivatePostgres, wait_until
from tests.faults.liveview_stack import Stack, committed_rows_delete, figure, grant_committed


@pytest.fixture
def stack(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Stack]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        try:
            grant = grant_committed()
            copy = PrivatePostgres.copy_of_test_database(tmp_path / "pg")
            database = copy.__enter__()
        finally:
            committed_rows_delete()
    running = Stack(database, grant, tmp_path)
    try:
        with running.canvass():
            running.loop.call(running.proxy.start())
            running.relay_start()
            running.bridge_start()
            yield running
    finally:
        running.stop()
        copy.__exit__(None, None, None)


def playing(stack: Stack):  # type: ignore[no-untyped-def]
    viewer = stack.view()
    assert viewer.status == 201, (viewer.error, stack.relay_log())
    stack.watching(viewer)
    assert stack.relay_stats()["publishers"] == 1  # type: ignore[index]
    return viewer


def test_the_bridges_network_cut_interrupts_the_viewer_who_gets_frames_again_on_its_return(
    stack: Stack,
) -> None:
    viewer = playing(stack)
    stack.loop.call(stack.proxy.cut())
    # The relay lets go of the bridge's stream and its viewer at once.
    wait_until(lambda: viewer.ended, timeout=10, what="the viewer's connection closed")
    assert stack.relay_stats()["publishers"] == 0  # type: ignore[index]
    assert "closed: the bridge's control connection closed" in stack.relay_log()
    # While the network is down, opening again says the camera is offline (the page retries).
    time.sleep(1)
    offline = stack.view()
    assert offline.status == 503, offline.error
    assert "camera offline" in offline.error
    stack.loop.call(stack.proxy.restore())
    # The page opens again every few seconds; the bridge comes back on its own backoff.
    again, seconds = stack.reopen_until_frames()
    figure("network cut: network back to frames at the viewer (s)", seconds)
    stack.watching(again)
    assert stack.relay_stats()["viewers"] == 1  # type: ignore[index]


def test_the_bridge_killed_and_started_again_is_watched_again_within_the_grant(
    stack: Stack,
) -> None:
    viewer = playing(stack)
    stack.bridge_kill()
    wait_until(lambda: viewer.ended, timeout=10, what="the viewer's connection closed")
    assert stack.relay_stats()["publishers"] == 0  # type: ignore[index]
    stack.bridge_start(wait=False)
    again, seconds = stack.reopen_until_frames()
    figure("bridge killed: bridge process started to frames at the viewer (s)", seconds)
    stack.watching(again)


def test_a_grant_that_ends_while_the_bridge_is_cut_off_is_not_resumed(stack: Stack) -> None:
    playing(stack)
    stack.loop.call(stack.proxy.cut())
    stack.grant_revoke()
    stack.loop.call(stack.proxy.restore())
    stack.bridge_connected()
    refused = stack.view()
    assert refused.status in (401, 403), refused.error
    assert stack.whip_status() == 403  # the bridge may not publish for it either
    time.sleep(3)  # three watchdog rounds
    stats = stack.relay_stats()
    assert stats is not None and (stats["publishers"], stats["viewers"]) == (0, 0)


def test_after_the_relay_restarts_the_bridge_reconnects_and_the_viewer_gets_frames_again(
    stack: Stack,
) -> None:
    playing(stack)
    starts_before = stack.bridge_log().count("starting, as the relay asked")
    stack.relay_kill()
    offline = stack.view()
    assert offline.status == 0  # nothing answers: the page says so and retries
    started = stack.relay_start()
    again, seconds = stack.reopen_until_frames()
    figure("relay restarted: relay process start to answering (s)", started)
    figure("relay restarted: relay answering to frames at the viewer (s)", seconds)
    stack.watching(again)
    # The new relay asked the bridge to start again: nothing carried over from the old one.
    assert stack.bridge_log().count("starting, as the relay asked") == starts_before + 1


def test_a_grant_revoked_while_the_relay_is_down_is_refused_after_its_restart(
    stack: Stack,
) -> None:
    playing(stack)
    starts_before = stack.bridge_log().count("starting, as the relay asked")
    stack.relay_kill()
    stack.grant_revoke()
    stack.relay_start()
    stack.bridge_connected()
    for _attempt in range(3):  # the page's retries: each one refused
        refused = stack.view()
        assert refused.status in (401, 403), refused.error
    assert stack.whip_status() == 403
    time.sleep(3)
    stats = stack.relay_stats()
    assert stats is not None and (stats["publishers"], stats["viewers"]) == (0, 0)
    figure("relay restarted, grant revoked meanwhile: streams running", stats["viewers"])
    # The bridge was never asked to start for the revoked grant.
    assert stack.bridge_log().count("starting, as the relay asked") == starts_before


def test_a_grant_that_expires_while_the_relay_is_down_is_refused_after_its_restart(
    stack: Stack,
) -> None:
    playing(stack)
    stack.relay_kill()
    stack.grant_expire_in(1)
    time.sleep(1.5)
    stack.relay_start()
    stack.bridge_connected()
    refused = stack.view()
    assert refused.status in (401, 403), refused.error
    assert stack.whip_status() == 403
    stats = stack.relay_stats()
    assert stats is not None and (stats["publishers"], stats["viewers"]) == (0, 0)
