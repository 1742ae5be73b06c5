"""The skip policy (tests/fixtures/skips.py): only allow-listed tests may skip or xfail."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit

TESTS = """
import pytest

def test_runs():
    pass

def test_skips():
    pytest.skip("no widget here")

@pytest.mark.xfail(reason="known bug")
def test_xfails():
    assert False

@pytest.mark.xfail(reason="fixed already")
def test_xpasses():
    pass
"""
INI = "[pytest]\nallowed_skips = allowed.txt\nasyncio_default_fixture_loop_scope = function\n"
EVERY = ("test_skips", "test_xfails", "test_xpasses")


def run(pytester: pytest.Pytester, *allowances: str) -> pytest.RunResult:
    pytester.makeini(INI)
    pytester.makefile(".txt", allowed="# tests allowed to skip\n" + "".join(f"{a}\n" for a in allowances))
    pytester.makepyfile(test_sample=TESTS)
    return pytester.runpytest("-p", "tests.fixtures.skips")


def test_a_skip_xfail_or_xpass_not_allowed_fails_the_run_and_says_which(pytester: pytest.Pytester) -> None:
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*skips not in the allow-list (the run fails)*",
            "SKIPPED test_sample.py::test_skips: no widget here",
            "XFAILED test_sample.py::test_xfails: known bug",
            "XPASSED test_sample.py::test_xpasses: fixed already",
        ]
    )


def test_allowed_for_this_backend_passes(pytester: pytest.Pytester) -> None:
    result = run(pytester, *(f"local test_sample.py::{name}  # why" for name in EVERY))
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*skips not in the allow-list*")


def test_allowed_for_another_backend_only_still_fails(pytester: pytest.Pytester) -> None:
    result = run(pytester, *(f"containers test_sample.py::{name}  # why" for name in EVERY))
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_an_allowance_without_a_reason_is_refused(pytester: pytest.Pytester) -> None:
    result = run(pytester, "local test_sample.py::test_skips")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*allowed.txt:2: expected*"])


def test_a_skipped_module_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_gone="import pytest\npytest.skip('module gone', allow_module_level=True)\n")
    result = run(pytester, *(f"local test_sample.py::{name}  # why" for name in EVERY))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["SKIPPED test_gone.py: module gone"])


def test_no_tests_stays_a_failure(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    result = pytester.runpytest("-p", "tests.fixtures.skips")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
