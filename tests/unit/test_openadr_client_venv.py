"""The venv of the third-party OpenADR 3 client is built and pinned, so the VTN facade's tests can use it."""

from __future__ import annotations

import os

import pytest

from tests.fixtures.openadr_client import run_client

pytestmark = pytest.mark.unit


def test_openadr3_client_venv_runs_the_pinned_client() -> None:
    findings = run_client("smoke.py", "http://127.0.0.1:9/openadr3", env=dict(os.environ), timeout_s=60)
    assert findings["ok"] is True
    assert findings["client_version"] == "2.4.2"
