"""Browsers' offers as Chromium sends them: host candidates hidden behind mDNS names."""

from __future__ import annotations

from relay.hub import parse_offer, without_mdns_candidates

MDNS_CANDIDATE = (
    "a=candidate:1 1 udp 2122260223 2b9c1c1e-5b8e-4c4e-9f0e-1d2c3b4a5f6e.local 50000 typ host\r\n"
)
OFFER = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 "
    + ":".join(["AB"] * 32)
    + "\r\na=setup:actpass\r\n"
    + MDNS_CANDIDATE
    + "a=candidate:2 1 udp 2122260223 192.0.2.10 50001 typ host\r\n"
)


def test_mdns_candidates_are_dropped_and_real_addresses_kept() -> None:
    cleaned = without_mdns_candidates(OFFER)
    assert ".local" not in cleaned
    assert "192.0.2.10 50001 typ host" in cleaned


def test_an_offer_without_mdns_candidates_is_left_as_it_is() -> None:
    plain = OFFER.replace(MDNS_CANDIDATE, "")
    assert without_mdns_candidates(plain) == plain


def test_the_parsed_offer_holds_only_the_reachable_candidates() -> None:
    video = parse_offer(OFFER).media[0]
    assert [candidate.ip for candidate in video.ice_candidates] == ["192.0.2.10"]
