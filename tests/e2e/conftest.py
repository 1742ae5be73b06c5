"""End-to-end hooks: a failing test carries its services' logs. The platform itself comes
from tests/fixtures/platform.py (`platform_factory`, `api_for`)."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from dr_infra.errors import log_tail

#: Lines of each service's log attached to a failing e2e test's report.
LOG_TAIL_LINES = 80


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing e2e test carries its services' log tails in its report.

    pytest keeps only the newest three temporary directories, so logs under `tmp_path` are
    gone by the time someone reads a failure from a long run; the report is what stays.
    """
    report = yield
    tmp_path = getattr(item, "funcargs", {}).get("tmp_path")
    if report.failed and isinstance(tmp_path, Path):
        for log in sorted((tmp_path / "logs").glob("*.log")):
            title = f"{log.stem} log (last {LOG_TAIL_LINES} lines)"
            report.sections.append((title, log_tail(log, LOG_TAIL_LINES)))
    return report
