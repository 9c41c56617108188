"""Fixtures of the storage tests: the moto server comes from tests/conftest.py (tests.storage.s3);
an owner's answer link with footage comes from the evidence tests."""

from tests.department.test_evidence import answer_link  # noqa: F401
