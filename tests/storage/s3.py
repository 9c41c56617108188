"""A local S3 server for the suite: moto in server mode on loopback, started once per session,
with the two buckets a deployment has (public logos, private files), and the storages the
settings build for STORAGE_BACKEND=s3 pointed at it.

Moto does not check a presigned URL's signature or expiry (any URL carrying a signature is
let through). Real S3 does both, and the promise "a link works for a minute" rests on it, so
the server's WSGI application is wrapped in `PresignedUrlCheck`, which answers 403 as S3 does
for an expired or forged presigned URL. Everything else is moto's own behaviour: an unsigned
request for an object is refused unless the bucket's policy makes it public.
"""

from __future__ import annotations

import hmac
import json
import runpy
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
ACCESS_KEY = "canvass-test"
SECRET_KEY = "canvass-test-secret"
PUBLIC_BUCKET = "canvass-logos"
PRIVATE_BUCKET = "canvass-evidence"

S3_ENVIRONMENT = {
    "STORAGE_BACKEND": "s3",
    "S3_BUCKET": PUBLIC_BUCKET,
    "S3_EVIDENCE_BUCKET": PRIVATE_BUCKET,
    "S3_REGION": REGION,
    "S3_ACCESS_KEY": ACCESS_KEY,
    "S3_SECRET_KEY": SECRET_KEY,
    # The settings module is run again to read its STORAGES; it must not start a database.
    "DATABASE_URL": "postgres://unused@127.0.0.1:1/unused",
    "DATABASE_OWNER_URL": "postgres://owner@127.0.0.1:1/unused",
}

# What a deployment sets on its buckets, as docs/operations.md gives them (infra/s3/).
INFRA = Path(__file__).resolve().parents[2] / "infra" / "s3"


def public_bucket_policy(bucket: str) -> str:
    """Anyone may read logos/ in the public bucket, nothing else."""
    return (INFRA / "public-bucket-policy.json").read_text().replace("S3_BUCKET", bucket)


def private_bucket_lifecycle() -> dict[str, Any]:
    return json.loads((INFRA / "private-bucket-lifecycle.json").read_text())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_with(environment: dict[str, str]) -> dict[str, Any]:
    """The settings module run with this environment, as a deployment would start it."""
    import canvass.settings

    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        return runpy.run_path(canvass.settings.__file__)


class PresignedUrlCheck:
    """What S3 checks of a presigned (query-string) SigV4 URL and moto does not: that it is
    signed with the key's secret and that X-Amz-Date + X-Amz-Expires has not passed."""

    def __init__(self, app: Callable[..., Iterable[bytes]], secret_key: str) -> None:
        self.app, self.secret_key = app, secret_key

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        values = dict(query)
        if "X-Amz-Signature" in values:
            problem = self.problem(environ, query, values)
            if problem:
                body = (
                    f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
                    f"<Message>{problem}</Message></Error>"
                ).encode()
                start_response(
                    "403 Forbidden",
                    [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
                )
                return [body]
        return self.app(environ, start_response)

    def problem(
        self, environ: dict[str, Any], query: list[tuple[str, str]], values: dict[str, str]
    ) -> str:
        signed_at = datetime.strptime(values["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if time.time() > signed_at.timestamp() + int(values["X-Amz-Expires"]):
            return "Request has expired"
        access_key, _date, region, _service, _end = values["X-Amz-Credential"].split("/")
        unsigned = [(name, value) for name, value in query if name != "X-Amz-Signature"]
        host = environ["HTTP_HOST"]
        path = quote(environ.get("PATH_INFO", ""), safe="/~")
        request = AWSRequest(
            method=environ["REQUEST_METHOD"],
            url=f"http://{host}{path}?{urlencode(unsigned, quote_via=quote)}",
            headers={"host": host},
        )
        request.context["timestamp"] = values["X-Amz-Date"]
        auth = S3SigV4QueryAuth(
            Credentials(access_key, self.secret_key), "s3", region, int(values["X-Amz-Expires"])
        )
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, values["X-Amz-Signature"]):
            return "The request signature we calculated does not match the signature you provided."
        return ""


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    storages: dict[str, dict[str, Any]]

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def empty(self) -> None:
        client = self.client()
        for bucket in (PUBLIC_BUCKET, PRIVATE_BUCKET):
            for key in self.keys(bucket):
                client.delete_object(Bucket=bucket, Key=key)

    def url(self, bucket: str, key: str) -> str:
        return f"{self.endpoint}/{bucket}/{quote(key)}"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """Moto on 127.0.0.1 and a free port for the whole session, with the public bucket (its
    policy opening logos/ to anyone) and the private one (no policy: nothing public; the
    lifecycle rules of infra/s3/)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wsgi = server._server  # the werkzeug server it started; wrap its app before any request
    assert wsgi is not None
    wsgi.app = PresignedUrlCheck(wsgi.app, SECRET_KEY)  # type: ignore[assignment]
    endpoint = f"http://127.0.0.1:{port}"
    try:
        configured = settings_with(S3_ENVIRONMENT | {"S3_ENDPOINT_URL": endpoint})
        s3 = S3Server(endpoint, configured["STORAGES"])
        client = s3.client()
        client.create_bucket(Bucket=PUBLIC_BUCKET)
        client.put_bucket_policy(Bucket=PUBLIC_BUCKET, Policy=public_bucket_policy(PUBLIC_BUCKET))
        client.create_bucket(Bucket=PRIVATE_BUCKET)
        client.put_bucket_lifecycle_configuration(
            Bucket=PRIVATE_BUCKET, LifecycleConfiguration=private_bucket_lifecycle()
        )
        yield s3
    finally:
        server.stop()


@pytest.fixture
def s3_storages(s3_server: S3Server) -> Iterator[S3Server]:
    """Both storages on the S3 server for one test (STORAGES as STORAGE_BACKEND=s3 builds
    them); the buckets are emptied afterwards."""
    from django.conf import settings
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "default": s3_server.storages["default"],
        "evidence": s3_server.storages["evidence"],
    }
    try:
        with override_settings(STORAGES=storages):
            yield s3_server
    finally:
        s3_server.empty()
