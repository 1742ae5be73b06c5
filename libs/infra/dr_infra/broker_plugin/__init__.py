"""The Mosquitto plugin `dr_legacy_stamp` (C, beside this file), built with gcc on first use.

It re-routes every message of the legacy shared topic to `<topic>/<publisher's username>`, so
that the bridge knows which gateway sent a reading (docs/security.md, "Legacy gateways").
The shared object is cached per source version in $DR_PLUGIN_DIR (default
~/.cache/dr-platform); the broker image builds its own (deploy/images/mosquitto).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import InfraError

SOURCE = Path(__file__).with_name("dr_legacy_stamp.c")
#: Where the broker image installs the plugin (deploy/images/mosquitto/Dockerfile).
IMAGE_PATH = "/usr/lib/mosquitto/dr_legacy_stamp.so"
#: What to install when the build fails: the compiler and the broker's plugin headers.
PACKAGES = "gcc libc6-dev mosquitto-dev libmosquitto-dev"


def plugin_path() -> Path:
    """The built plugin, compiling it if this version of the source has not been yet."""
    source = SOURCE.read_bytes()
    folder = Path(os.environ.get("DR_PLUGIN_DIR") or Path.home() / ".cache" / "dr-platform")
    built = folder / f"dr_legacy_stamp-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if built.exists():
        return built
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise InfraError(f"no C compiler to build the Mosquitto plugin: apt-get install {PACKAGES}")
    folder.mkdir(parents=True, exist_ok=True)
    partial = built.with_suffix(f".{os.getpid()}.tmp")
    done = subprocess.run(
        [compiler, "-O2", "-Wall", "-fPIC", "-shared", str(SOURCE), "-o", str(partial)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise InfraError(
            f"building the Mosquitto plugin failed (apt-get install {PACKAGES}):\n{done.stderr[-1500:]}"
        )
    partial.replace(built)  # atomic: a parallel build never leaves half a file behind
    return built
