"""`python -m tests.mutation [MODULE ...]`: run mutmut per module, then print the kill-rate table.

mutmut 3 copies the source roots it mutates into ./mutants and derives module names from file
paths, so it wants one package root per run. Each module therefore gets its own scratch folder
.mutmut/<module>/ holding a link to its top package, a link to tests/ and a generated
pyproject.toml; mutmut runs there with one worker and never touches the working tree.
MODULE is a dotted name or a prefix of one (`api.domain`, `dispatcher`); none means all targets.
The text mutants of the SQL constants (sql_text.py) of the chosen modules run after them; `text`
selects only those.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

from tests.mutation import sql_text
from tests.mutation.targets import REPO, Target, all_targets

SCRATCH = REPO / ".mutmut"
RESULTS = SCRATCH / "results.json"
# mutmut statuses folded into the table's columns; the rest ("suspicious", "segfault", ...) is "other".
COLUMNS = {"killed": "killed", "caught by type check": "killed", "survived": "survived",
           "no tests": "no tests", "timeout": "timeout"}  # fmt: skip
ALIVE = ("survived", "no tests")


def main(argv: list[str]) -> int:
    wanted = [a for arg in argv for a in arg.replace(",", " ").split()]
    targets = [t for t in all_targets() if not wanted or any(_matches(t, w) for w in wanted)]
    rows = {}
    for target in targets:
        print(f"== mutate {target.module} (tests: {' '.join(target.tests)})", flush=True)
        rows[target.module] = run(target)
    rows |= sql_text.run_all(wanted)
    if not rows:
        print(f"no target matches {wanted}; targets: {[t.module for t in all_targets()]} or 'text'")
        return 2
    _save(rows)
    _print_table(rows)
    return 0 if all("error" not in row for row in rows.values()) else 1


def _matches(target: Target, wanted: str) -> bool:
    return target.module == wanted or target.module.startswith(wanted + ".")


def run(target: Target) -> dict:
    """Mutate one module in its own scratch folder; its counts and the diffs of its live mutants."""
    work = _prepare(target)
    with (work / "mutmut.log").open("w") as log:
        done = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", "1"],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    meta = work / "mutants" / target.path
    meta = meta.with_name(meta.name + ".meta")
    if done.returncode != 0 or not meta.exists():
        print(f"   mutmut failed (exit {done.returncode}): see {work / 'mutmut.log'}")
        return {"error": done.returncode}
    statuses = {
        k: status_by_exit_code[v] for k, v in json.loads(meta.read_text())["exit_code_by_key"].items()
    }
    alive = sorted(k for k, s in statuses.items() if s in ALIVE)
    _write_diffs(work, alive, work / "survivors.diff")
    counts = Counter(COLUMNS.get(s, "other") for s in statuses.values())
    print(f"   {dict(counts)}; live mutants: {work / 'survivors.diff'}", flush=True)
    return {"mutants": len(statuses), **counts, "alive": alive}


def _prepare(target: Target) -> Path:
    work = SCRATCH / target.module
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / target.package).symlink_to(REPO / target.root / target.package)
    (work / "tests").symlink_to(REPO / "tests")
    (work / "pyproject.toml").write_text(_pyproject(target))
    return work


def _pyproject(target: Target) -> str:
    """The repository's pytest settings plus a [tool.mutmut] section for this one module."""
    pytest_ini = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    mutmut = {
        "source_paths": [target.package],
        "only_mutate": [target.path],
        "pytest_add_cli_args_test_selection": list(target.tests),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", f"--timeout={target.timeout}"],
        "use_git_change_detection": False,
    }
    return _toml_table("tool.pytest.ini_options", pytest_ini) + "\n" + _toml_table("tool.mutmut", mutmut)


def _toml_table(name: str, values: dict) -> str:
    # JSON strings, numbers, booleans and lists of them are valid TOML values.
    return f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())


# One process for all the diffs of a module (a `mutmut show` process each is slow with hundreds).
_SHOW_ALL = (
    "import sys; from mutmut.__main__ import cli\n"
    "for n in sys.argv[1:]: cli.main(['show', n], standalone_mode=False)"
)


def _write_diffs(work: Path, names: list[str], out: Path) -> None:
    with out.open("w") as file:
        subprocess.run([sys.executable, "-c", _SHOW_ALL, *names], cwd=work, stdout=file, check=False)


def _save(rows: dict) -> None:
    """Merge this run's rows into .mutmut/results.json, so a subset run updates only its modules."""
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged.update(rows)
    RESULTS.write_text(json.dumps(merged, indent=2, sort_keys=True))


def _print_table(rows: dict) -> None:
    """A Markdown table (pasted as is into docs/mutation.md), then the names of the live mutants."""
    header = ("module", "mutants", "killed", "survived", "no tests", "timeout", "other", "kill rate")
    lines = [header, tuple("---" for _ in header)]
    for module, row in rows.items():
        lines.append(_row(module, row, header))
    width = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print()
    for line in lines:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, width, strict=True)) + " |")
    alive = [name for row in rows.values() for name in row.get("alive", [])]
    if alive:
        print(f"\n{len(alive)} live mutants (diffs in .mutmut/<module>/survivors.diff):")
        print("\n".join(f"  {name}" for name in alive))


def _row(module: str, row: dict, header: tuple[str, ...]) -> tuple[str, ...]:
    if "error" in row:
        return (module, "error", *[""] * (len(header) - 2))
    # A timeout is a detected mutant too: the mutation made the tests hang.
    detected = row.get("killed", 0) + row.get("timeout", 0)
    rate = f"{100 * detected / row['mutants']:.1f}%" if row["mutants"] else "-"
    return (module, *(str(row.get(c, 0)) for c in header[1:-1]), rate)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
