"""Textual mutants of the rules mutmut cannot reach: SQL in module constants, module-level numbers.

mutmut 3 mutates function bodies only, so the SQL conditions of the read-model adapters and the
constants of dr_contracts.rules are never changed by it. Each mutant here replaces every
occurrence of one snippet in one file of a copy of the module's top package
(.mutmut/sql-text/<name>/), which goes first on PYTHONPATH (the editable install's finder comes
after sys.path), and runs the tests that pin that rule; a test failing kills it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.mutation.targets import READ_MODEL_RULES, REPO, SQL_TIMEOUT, VEN_RULES, Target

SCRATCH = REPO / ".mutmut" / "sql-text"


@dataclass(frozen=True)
class TextMutant:
    """`old` -> `new` everywhere in `target`'s file; `target.tests` must notice."""

    name: str
    target: Target
    old: str
    new: str


def _t(module: str, root: str, *tests: str) -> Target:
    return Target(module, root, tests, SQL_TIMEOUT)


_SQL = _t("api.adapters.sql", "services/api", READ_MODEL_RULES)
_QUERIES = _t("api.adapters.pg_queries", "services/api", READ_MODEL_RULES)
_VEN_LIST = _t("api.adapters.pg_queries", "services/api", "tests/integration/api/test_vens.py")
_REGISTRY = _t("api.adapters.pg_registry", "services/api", READ_MODEL_RULES)
_VENS = _t("dispatcher.adapters.vens", "services/dispatcher", VEN_RULES)
_RULES = _t("dr_contracts.rules", "libs/contracts", READ_MODEL_RULES, VEN_RULES)

# M1-M5: the five mutants of issue 13; the others are their neighbours.
MUTANTS: tuple[TextMutant, ...] = (
    TextMutant("M1 API online window 3 -> 1 interval", _SQL, "%(online_intervals)s *", "1 *"),
    TextMutant("M1b shared online default 3 -> 1", _RULES, "INTERVALS = 3", "INTERVALS = 1"),
    TextMutant("M2 history lookback 7 days -> 1 hour", _QUERIES, "%(longest)s", "interval '1 hour'"),
    TextMutant("M2b longest event 7 days -> 1 hour", _RULES, "timedelta(days=7)", "timedelta(hours=1)"),
    TextMutant("M3 offline VENs in currentReductionKw", _SQL, "IS NULL AND {ONLINE})", "IS NULL)"),
    TextMutant("M3b deleted VENs in currentReduction", _SQL, "v.deleted_at IS NULL AND {ONLINE}", "{ONLINE}"),
    TextMutant("M4 dispatcher commands deleted VENs", _VENS, "deleted_at IS NULL AND ", ""),
    TextMutant("M4b dispatcher online window -> 1", _VENS, "%s * report", "(1 + 0 * %s) * report"),
    TextMutant("M5 deleted VENs accepted as targets", _REGISTRY, " AND deleted_at IS NULL", ""),
    TextMutant("VEN list shows deleted VENs", _VEN_LIST, "v WHERE v.deleted_at IS NULL\n", "v\n"),
)  # fmt: skip


def run(mutant: TextMutant) -> str:
    """'killed', 'survived', 'timeout', or 'stale' when `old` is no longer in the file."""
    work = SCRATCH / "".join(c if c.isalnum() else "-" for c in mutant.name)
    shutil.rmtree(work, ignore_errors=True)
    package = REPO / mutant.target.root / mutant.target.package
    shutil.copytree(package, work / mutant.target.package, ignore=shutil.ignore_patterns("__pycache__"))
    file = work / mutant.target.path
    text = file.read_text()
    if mutant.old not in text:
        return "stale"
    file.write_text(text.replace(mutant.old, mutant.new))
    log = work / "pytest.log"
    if _pytest(mutant.target.tests, log, mutant.target.timeout, pythonpath=work) == 0:
        return "survived"
    return "timeout" if "Failed: Timeout" in log.read_text() else "killed"


def _pytest(tests: tuple[str, ...], log: Path, timeout: int, pythonpath: Path | None = None) -> int:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else None
    args = ["-x", "-q", "-p", "no:cacheprovider", f"--timeout={timeout}", *tests]
    with log.open("w") as out:
        command = [sys.executable, "-m", "pytest", *args]
        return subprocess.run(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT).returncode


def run_all(wanted: list[str]) -> dict[str, dict]:
    """Run the mutants of the wanted modules (all when none); one table row per module."""
    chosen = [m for m in MUTANTS if not wanted or any(_matches(m.target.module, w) for w in wanted)]
    rows: dict[str, dict] = {}
    if not chosen:
        return rows
    # Unmutated first: a red or unreachable test would otherwise "kill" every mutant.
    SCRATCH.mkdir(parents=True, exist_ok=True)
    tests = tuple(dict.fromkeys(t for m in chosen for t in m.target.tests))
    if (code := _pytest(tests, SCRATCH / "baseline.log", SQL_TIMEOUT)) != 0:
        print(f"   [sql text] tests fail unmutated (exit {code}): see {SCRATCH / 'baseline.log'}")
        return {"SQL text mutants": {"error": code}}
    for module in dict.fromkeys(m.target.module for m in chosen):
        statuses = {}
        for mutant in (m for m in chosen if m.target.module == module):
            statuses[mutant.name] = run(mutant)
            print(f"   [sql text] {mutant.name}: {statuses[mutant.name]}", flush=True)
        counts = Counter("other" if s == "stale" else s for s in statuses.values())
        alive = [f"{n} ({s})" for n, s in statuses.items() if s in ("survived", "stale")]
        rows[f"{module} (text)"] = {"mutants": len(statuses), **counts, "alive": alive}
    return rows


def _matches(module: str, wanted: str) -> bool:
    return module == wanted or module.startswith(wanted + ".") or wanted == "text"
