"""Resident memory from /proc, as the overload bench and the soak sample it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dr_infra.process import memory_bytes

pytestmark = pytest.mark.unit


def test_memory_of_a_process_and_of_its_tree() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        alone = memory_bytes(os.getpid())
        assert alone > 10_000_000  # this interpreter with pytest loaded: tens of MB
        assert memory_bytes(os.getpid(), with_descendants=True) > memory_bytes(child.pid)
    finally:
        child.communicate(b"")
    assert memory_bytes(child.pid) == 0  # gone
    assert memory_bytes(None) == 0
