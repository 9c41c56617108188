"""The Compose stack's bucket set-up (infra/s3_buckets.py) against moto in server mode on
loopback, as the stack runs it: both buckets made, the logos readable by anyone, the evidence
bucket closed to the public; a second run changes nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import boto3
import pytest

from tests.infra.deployfiles import ROOT, compose_file

ACCESS = {"S3_ACCESS_KEY": "compose-test", "S3_SECRET_KEY": "compose-test-secret"}


@pytest.fixture
def store() -> Iterator[str]:
    """moto in a process of its own, as the stack runs it: moto keeps buckets per process, and
    the suite's shared S3 server (tests/storage/s3.py) must keep its own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto's server did not start")
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_setup(endpoint: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    """The s3-buckets service's command with the stack's S3 settings, pointed at the store."""
    environment = compose_file()["services"]["s3-buckets"]["environment"]
    settings = {name: value for name, value in environment.items() if name.startswith("S3_")}
    return subprocess.run(
        [sys.executable, *compose_file()["services"]["s3-buckets"]["command"][1:]],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"}
        | settings
        | ACCESS
        | {"S3_ENDPOINT_URL": endpoint}
        | overrides,
        capture_output=True,
        text=True,
        check=False,
    )


def client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS["S3_ACCESS_KEY"],
        aws_secret_access_key=ACCESS["S3_SECRET_KEY"],
    )


def test_it_creates_the_public_logos_bucket_and_the_private_evidence_bucket(store):
    result = run_setup(store)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["canvass-logos: created", "canvass-evidence: created"]
    s3 = client(store)
    policy = json.loads(s3.get_bucket_policy(Bucket="canvass-logos")["Policy"])
    (statement,) = policy["Statement"]
    assert (statement["Principal"], statement["Action"]) == ("*", "s3:GetObject")
    assert statement["Resource"] == "arn:aws:s3:::canvass-logos/*"
    block = s3.get_public_access_block(Bucket="canvass-evidence")
    assert all(block["PublicAccessBlockConfiguration"].values())
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_policy(Bucket="canvass-evidence")


def test_a_second_run_finds_both_buckets_and_keeps_their_objects(store):
    assert run_setup(store).returncode == 0
    client(store).put_object(Bucket="canvass-evidence", Key="concord/clip.mp4", Body=b"clip")

    result = run_setup(store)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "canvass-logos: already there",
        "canvass-evidence: already there",
    ]
    body = client(store).get_object(Bucket="canvass-evidence", Key="concord/clip.mp4")["Body"]
    assert body.read() == b"clip"


def test_it_refuses_one_bucket_for_both(store):
    result = run_setup(store, S3_EVIDENCE_BUCKET="canvass-logos")

    assert result.returncode == 1
    assert "two different buckets" in result.stderr
    assert client(store).list_buckets()["Buckets"] == []
