"""Which modules are mutated, and the narrowest test selection that covers each.

mutmut narrows further on its own: it records which of the selected tests call each function and
runs only those against that function's mutants. The selection here bounds that first (traced) run,
so it is kept to the unit tests of one service for domain modules and to the integration tests that
pin the rules for SQL modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Seconds per test: unit tests take well under one even on the loaded machine; integration
# tests include starting (or reaching) PostgreSQL in their first test's setup.
UNIT_TIMEOUT = 30
SQL_TIMEOUT = 60


@dataclass(frozen=True)
class Target:
    """One module to mutate: its dotted name, the folder its top package lives in, and its tests.

    `timeout`: pytest-timeout's limit per test in a mutation run (the suite's 300 s would make
    every hanging mutant wait 5 minutes); a test that hits it fails, so its mutant is killed.
    """

    module: str
    root: str
    tests: tuple[str, ...]
    timeout: int = UNIT_TIMEOUT

    @property
    def package(self) -> str:
        return self.module.partition(".")[0]

    @property
    def path(self) -> str:
        """The module's file relative to its root, as mutmut names it."""
        return self.module.replace(".", "/") + ".py"


# Domain packages: service root -> the unit tests of that service.
DOMAIN_TESTS: dict[str, tuple[str, ...]] = {
    "services/api": ("tests/unit/api",),
    "services/dispatcher": ("tests/unit/dispatcher",),
    "services/ingest": ("tests/unit/ingest",),
    "services/ven-sim": ("tests/unit/ven_sim",),
}

# SQL rules: each module -> the integration tests that pin its rules against PostgreSQL.
# mutmut mutates function bodies only: SQL text held in module constants is not mutated (the
# textual mutants of sql_text.py are). api.adapters.sql is not here: its functions all run at
# import time to build those constants, so no test can see a mutmut mutant of it (mutmut stops
# with "Unable to force test failures"); sql_text.py mutates its SQL instead.
READ_MODEL_RULES = "tests/integration/api/test_read_model_rules.py"
VEN_RULES = "tests/integration/dispatcher/test_ven_rules.py"
SQL_TARGETS: tuple[Target, ...] = (
    Target(
        "api.adapters.pg_queries",
        "services/api",
        (READ_MODEL_RULES, "tests/unit/api/test_mutants_pg_queries.py"),
        SQL_TIMEOUT,
    ),
    Target(
        "api.adapters.pg_registry",
        "services/api",
        (READ_MODEL_RULES, "tests/integration/api/test_vens.py"),
        SQL_TIMEOUT,
    ),
    Target("dispatcher.adapters.vens", "services/dispatcher", (VEN_RULES,), SQL_TIMEOUT),
)

# The shared rules (event status, online cut-off) that the SQL and the folds are built from.
RULES_TARGET = Target("dr_contracts.rules", "libs/contracts", ("tests/unit/contracts/test_rules.py",))


def domain_targets() -> list[Target]:
    """Every non-empty module under services/*/*/domain, found on disk so new ones are not missed."""
    found = []
    for root, tests in DOMAIN_TESTS.items():
        for file in sorted((REPO / root).glob("*/domain/*.py")):
            if "def " in file.read_text():  # mutmut mutates function bodies only
                rel = file.relative_to(REPO / root).with_suffix("")
                found.append(Target(".".join(rel.parts), root, tests))
    return found


def all_targets() -> list[Target]:
    """Domain modules, then the rules module if present, then the SQL modules."""
    rules = [RULES_TARGET] if (REPO / RULES_TARGET.root / RULES_TARGET.path).exists() else []
    return [*domain_targets(), *rules, *SQL_TARGETS]
