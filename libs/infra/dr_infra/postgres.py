"""PostgreSQL server in a temporary data dir, for tests and local runs.

``initdb`` and ``postgres`` refuse to run as root; when the runner is root (CI),
both run as the ``postgres`` system user and the work dir is chowned to it.
The server is a direct child (no ``pg_ctl``) so its pid is ours; it is tuned for
speed, not durability (``fsync=off``, ``synchronous_commit=off``).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import POSTGRES_MISSING, InfraError, with_log
from .ports import can_connect
from .process import ManagedProcess

_SAFE_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _has_server(bindir: Path) -> bool:
    return (bindir / "initdb").is_file() and (bindir / "postgres").is_file()


def find_pg_bindir() -> Path:
    """Locate the server binaries: $DR_PG_BINDIR, ``pg_config --bindir``,
    /usr/lib/postgresql/*/bin (newest first), then the directory of ``initdb`` on $PATH."""
    candidates: list[Path] = []
    if env := os.environ.get("DR_PG_BINDIR"):
        candidates.append(Path(env))
    if pg_config := shutil.which("pg_config"):
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    candidates += [Path(p) for p in versions]
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    for candidate in candidates:
        if _has_server(candidate):
            return candidate
    raise InfraError(POSTGRES_MISSING)


def database_dsn(server_dsn: str, name: str) -> str:
    """``server_dsn`` with its database name replaced by ``name``."""
    parts = urlsplit(server_dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _check_name(name: str) -> str:
    if not _SAFE_DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r} (letters, digits, _; max 63)")
    return name


def create_database(server_dsn: str, name: str) -> str:
    """Create database ``name`` on the server of ``server_dsn``; return its DSN."""
    import psycopg

    with psycopg.connect(server_dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{_check_name(name)}"')
    return database_dsn(server_dsn, name)


def drop_database(server_dsn: str, name: str) -> None:
    """Drop database ``name`` if it exists, disconnecting its sessions (``WITH (FORCE)``)."""
    import psycopg

    with psycopg.connect(server_dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_check_name(name)}" WITH (FORCE)')


class Postgres(ManagedProcess):
    """A PostgreSQL server on ``127.0.0.1:port`` (trust auth, user ``postgres``).

    >>> with Postgres() as pg:                          # doctest: +SKIP
    ...     dsn = pg.create_database("orders")          # postgresql://postgres@127.0.0.1:P/orders
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: disconnect clients, checkpoint, exit
    stop_timeout = 15.0

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        bindir: str | Path | None = None,
        settings: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(port, host=host, startup_timeout=startup_timeout)
        self._bindir = Path(bindir) if bindir else None
        self.settings = {
            "fsync": "off",
            "max_connections": "300",
            "synchronous_commit": "off",
            **(settings or {}),
        }

    @property
    def dsn(self) -> str:
        """Server/admin DSN: ``postgresql://postgres@host:port/postgres``."""
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    @property
    def url(self) -> str:
        return self.dsn

    @property
    def data_dir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "data"

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its DSN."""
        return create_database(self.dsn, name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` (``WITH (FORCE)``)."""
        drop_database(self.dsn, name)

    # -- ManagedProcess ----------------------------------------------------------------

    def _run_as(self) -> dict[str, Any]:
        if os.geteuid() != 0:
            return {}
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise InfraError(
                "running as root, but there is no 'postgres' system user to run PostgreSQL as: "
                "install postgresql (it creates the user) or run as a normal user"
            ) from None
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def _popen_kwargs(self) -> dict[str, Any]:
        return self._run_as()

    def _prepare(self) -> None:
        if self._bindir is None:
            self._bindir = find_pg_bindir()
        assert self.workdir is not None
        run_as = self._run_as()
        if run_as:
            os.chown(self.workdir, run_as["user"], run_as["group"])
        with open(self.log_path, "ab") as log:
            if run_as:
                os.fchown(log.fileno(), run_as["user"], run_as["group"])
            result = subprocess.run(
                [
                    str(self._bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--no-instructions",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                timeout=self.startup_timeout,
                check=False,
                **run_as,
            )
        if result.returncode != 0:
            raise with_log(f"initdb failed with exit code {result.returncode}", self.log_path)

    def _command(self) -> list[str]:
        assert self._bindir is not None and self.workdir is not None
        command = [
            str(self._bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-k",
            str(self.workdir),
            "-h",
            self.host,
        ]
        for key, value in self.settings.items():
            command += ["-c", f"{key}={value}"]
        return command

    def _probe(self, timeout: float) -> None:
        import psycopg

        if not can_connect(self.host, self.port, timeout=min(timeout, 0.5)):
            raise ConnectionRefusedError(f"{self.host}:{self.port} refuses connections")
        with psycopg.connect(self.dsn, connect_timeout=max(1, int(timeout))) as conn:
            conn.execute("SELECT 1").fetchone()
