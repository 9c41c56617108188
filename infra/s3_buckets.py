"""Create the buckets Canvass writes to on an S3-compatible store, for the Compose stack's
one-shot `s3-buckets` service: S3_BUCKET (logos, readable by anyone) and S3_EVIDENCE_BUCKET
(footage and import files, private). Idempotent; waits up to a minute for the store to answer.

    python infra/s3_buckets.py      # with S3_ENDPOINT_URL, S3_REGION, S3_ACCESS_KEY, ...
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError


def env_secret(name: str) -> str:
    """NAME, or the file NAME_FILE points to (as canvass.settings.envsecret)."""
    path = os.environ.get(f"{name}_FILE")
    return Path(path).read_text().strip() if path else os.environ.get(name, "")


def public_read_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "LogosArePublic",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
    )


def bucket_ensure(client: Any, bucket: str, region: str) -> bool:
    """Create the bucket unless it exists; True when it was created."""
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket"}:
            raise
    options: dict[str, Any] = {}
    if region and region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(Bucket=bucket, **options)
    return True


def buckets_ensure(*, wait_seconds: float = 60.0) -> list[str]:
    public = os.environ.get("S3_BUCKET", "")
    private = os.environ.get("S3_EVIDENCE_BUCKET", "")
    if not public or not private or public == private:
        raise SystemExit("S3_BUCKET and S3_EVIDENCE_BUCKET must name two different buckets")
    region = os.environ.get("S3_REGION") or "us-east-1"
    client = boto3.client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
        region_name=region,
        aws_access_key_id=env_secret("S3_ACCESS_KEY"),
        aws_secret_access_key=env_secret("S3_SECRET_KEY"),
    )
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            client.list_buckets()
            break
        except EndpointConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    report = []
    for bucket in (public, private):
        created = bucket_ensure(client, bucket, region)
        report.append(f"{bucket}: {'created' if created else 'already there'}")
    client.put_bucket_policy(Bucket=public, Policy=public_read_policy(public))
    # The evidence bucket is never public, whatever was set on it before.
    client.put_public_access_block(
        Bucket=private,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return report


if __name__ == "__main__":
    print("\n".join(buckets_ensure()))
    sys.exit(0)
