"""The control connection to the relay: opened outbound, reopened with backoff when the relay
drops it, and without it nothing keeps streaming (the relay could not say "stop")."""

from __future__ import annotations

from tests.bridge.conftest import RunningBridge, eventually, run


def test_the_bridge_reconnects_after_the_relay_drops_the_control_connection(config, state, stubs):
    async def scenario() -> None:
        async with RunningBridge(config, state) as bridge:
            await eventually(lambda: stubs.relay.control_connections == 1, within=5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await eventually(lambda: 1 in stubs.relay.publishers, within=5)
            await eventually(lambda: stubs.relay.publishers[1].frames >= 3, within=8)

            await stubs.acall(stubs.relay.drop_control())
            await eventually(lambda: stubs.relay.publishers[1].deleted, within=2)
            assert bridge.publications == {}
            await eventually(lambda: stubs.relay.control_connections == 2, within=3)
            await eventually(lambda: len(stubs.relay.hellos) == 2, within=2)

            # The new connection works: a start publishes again.
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await eventually(lambda: 2 in stubs.relay.publishers, within=5)
            await eventually(lambda: stubs.relay.publishers[2].frames >= 3, within=8)

    run(scenario)


def test_a_relay_that_refuses_the_credential_is_retried_and_the_portal_asked(
    config, state, stubs, caplog
):
    stubs.portal.heartbeat_seconds = 30
    # The relay refuses (say the credential was just revoked); the portal still answers.
    stubs.relay.portal = type(stubs.portal)(credential="cvd_other_credential")

    async def scenario() -> None:
        async with RunningBridge(config, state):
            await eventually(
                lambda: caplog.text.count("refused the control connection: 401") >= 2, within=5
            )
            # Besides the first heartbeat, the refusal made the bridge ask the portal at once.
            await eventually(lambda: len(stubs.portal.heartbeats) >= 2, within=2)
            assert stubs.relay.control_connections == 0

    run(scenario)
