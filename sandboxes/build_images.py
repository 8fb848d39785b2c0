"""Build agentsafe's Docker images with no registry: `python sandboxes/build_images.py`.

A base image is made with mmdebstrap + `docker import` when none exists (the rootfs tar is
cached under .cache/), then each `sandboxes/<kind>/Dockerfile` is built FROM it (build arg
BASE), with Python wheels downloaded on the host into the build context. Idempotent: an image
whose inputs did not change is not rebuilt (its `agentsafe.inputs` label holds their hash).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOXES = ROOT / "sandboxes"
CACHE = ROOT / ".cache"

DEFAULT_BASE = "agentsafe/base:bookworm"
# another base (python:3.11-slim, one of the user's) is taken as it is: only ours is rebuilt
BASE_IMAGE = os.environ.get("AGENTSAFE_BASE_IMAGE", DEFAULT_BASE)
SUITE = "bookworm"
# Everything an OS sandbox's seed scenarios expect to find, plus python3-venv so the app
# server images can install wheels into a venv without network.
BASE_PACKAGES = [
    "bash", "coreutils", "findutils", "grep", "sed", "gawk", "procps", "psmisc", "git",
    "python3", "python3-venv", "ca-certificates", "curl", "wget", "less", "file", "tar", "gzip",
    "xz-utils", "unzip", "zip", "sqlite3", "openssh-client", "vim-tiny", "nano", "tini",
    "sudo", "cron", "iproute2", "diffutils", "patch", "jq",
]
# Python packages each app-server image needs (downloaded as wheels on the host).
KIND_REQUIREMENTS: dict[str, list[str]] = {
    "os": [],
    "web": ["starlette", "uvicorn", "jinja2", "python-multipart", "anyio"],
    "mobile": ["starlette", "uvicorn", "jinja2", "python-multipart", "anyio"],
}
KINDS = ("os", "web", "mobile")
# What of sandboxes/<kind>/ goes into the image. The OS image needs only its Dockerfile and
# the control script (the runtime copies the current seed and script in at start anyway).
KIND_INCLUDE: dict[str, tuple[str, ...] | None] = {"os": ("Dockerfile", "control.py"),
                                                   "web": None, "mobile": None}
SKIP_PARTS = {"__pycache__", ".pytest_cache", "node_modules", ".build", ".git"}
SKIP_SUFFIXES = {".pyc", ".sqlite", ".sqlite-journal", ".sqlite-wal", ".db"}


def image_name(kind: str) -> str:
    """The local tag of a sandbox kind's image (the runtime starts containers from it)."""
    return f"agentsafe/{kind}:latest"


def log(msg: str) -> None:
    """Progress on stderr, timestamped."""
    print(f"[images {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _client():  # type: ignore[no-untyped-def]
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=600)
        client.ping()
        return client
    except DockerException as exc:
        sys.exit(f"error: the Docker daemon is unreachable ({exc}); start dockerd "
                 "(e.g. .ci/docker.sh) or check DOCKER_HOST")


def _has_image(client, tag: str) -> bool:  # type: ignore[no-untyped-def]
    from docker.errors import ImageNotFound

    try:
        client.images.get(tag)
        return True
    except ImageNotFound:
        return False


def base_key() -> str:
    """What the base rootfs is made from (suite and packages): its tar's name and image label."""
    return hashlib.sha256(" ".join([SUITE, *BASE_PACKAGES]).encode()).hexdigest()[:12]


def build_base(client, force: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Make BASE_IMAGE from a Debian minbase rootfs (mmdebstrap) unless one built from the same
    suite and package list exists (its `agentsafe.base` label): a package added to BASE_PACKAGES
    reaches the images at the next `make images`."""
    key = base_key()
    if _has_image(client, BASE_IMAGE) and not force:
        have = (client.images.get(BASE_IMAGE).labels or {}).get("agentsafe.base")
        if have == key or BASE_IMAGE != DEFAULT_BASE:
            log(f"{BASE_IMAGE}: present")
            return
        log(f"{BASE_IMAGE}: package list changed ({have or 'unlabelled'} -> {key}): rebuilding")
    tar_path = CACHE / f"base-{SUITE}-{key}.tar"
    if not tar_path.exists() or force:
        if shutil.which("mmdebstrap") is None:
            sys.exit("error: mmdebstrap is missing (apt-get install mmdebstrap), or set "
                     "AGENTSAFE_BASE_IMAGE / --base to an image you have (python:3.11-slim)")
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = tar_path.with_name(tar_path.stem + ".part.tar")
        log(f"mmdebstrap {SUITE} -> {tar_path.name} (about a minute)")
        cmd = ["mmdebstrap", "--variant=minbase", "--mode=auto", "--format=tar", "--quiet",
               "--include=" + ",".join(BASE_PACKAGES),
               "--customize-hook=rm -rf $1/var/cache/apt/archives/*.deb $1/var/lib/apt/lists/*",
               SUITE, str(tmp)]
        subprocess.run(cmd, check=True)
        tmp.rename(tar_path)
    log(f"docker import {tar_path.name} -> {BASE_IMAGE}")
    with tar_path.open("rb") as fh:
        repo, _, tag = BASE_IMAGE.partition(":")
        client.api.import_image_from_data(
            fh.read(), repository=repo, tag=tag or "latest",
            changes=[f"LABEL agentsafe.base={key}", "ENV LANG=C.UTF-8", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     'CMD ["bash"]'])


def pinned(reqs: list[str]) -> list[str]:
    """Requirements pinned to the versions installed here (the harness's own venv), so the
    containerised servers run the same library versions as the local runtime."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for r in reqs:
        try:
            out.append(f"{r}=={version(r)}")
        except PackageNotFoundError:
            out.append(r)
    return out


def _download_wheels(reqs: list[str], dest: Path) -> None:
    """`pip download` the wheels a kind needs (cp311, for this machine's platform)."""
    dest.mkdir(parents=True, exist_ok=True)
    if not reqs:
        return
    stamp = dest / ".reqs"
    want = "\n".join(sorted(reqs))
    if stamp.exists() and stamp.read_text() == want:
        return
    log(f"pip download {' '.join(reqs)}")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                    "--python-version", "3.11", "--implementation", "cp", "-d", str(dest), *reqs],
                   check=True)
    stamp.write_text(want)


def _context_tar(kind: str, wheels: Path) -> tuple[bytes, str]:
    """The build context: sandboxes/<kind>/ (minus caches) + wheels/ + the shared control
    script; returns (tar bytes, hash of the inputs)."""
    src = SANDBOXES / kind
    buf = io.BytesIO()
    digest = hashlib.sha256()

    include = KIND_INCLUDE.get(kind)

    def skip(p: Path) -> bool:
        if include is not None and str(p) not in include:
            return True
        return any(part in SKIP_PARTS for part in p.parts) or p.suffix in SKIP_SUFFIXES

    with tarfile.open(fileobj=buf, mode="w") as tar:
        entries: list[tuple[Path, str]] = []
        for p in sorted(src.rglob("*")):
            if p.is_file() and not skip(p.relative_to(src)):
                entries.append((p, str(p.relative_to(src))))
        for p in sorted(wheels.glob("*.whl")):
            entries.append((p, f"wheels/{p.name}"))
        reqs = pinned(KIND_REQUIREMENTS.get(kind, []))
        extra = {"wheels/requirements.txt": ("\n".join(reqs) + "\n").encode()}
        for path, arc in entries + [(Path(os.devnull), k) for k in extra]:
            data = extra[arc] if arc in extra else path.read_bytes()
            digest.update(arc.encode() + b"\0" + hashlib.sha256(data).digest())
            info = tarfile.TarInfo(arc)
            info.size = len(data)
            info.mode = 0o755 if os.access(path, os.X_OK) and str(path) != os.devnull else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue(), digest.hexdigest()[:16]


def _file_labels(kind: str) -> dict[str, str]:
    """Hashes of files baked into an image, so the runtime can use them without copying."""
    control = SANDBOXES / kind / "control.py"
    if kind == "os" and control.exists():
        return {"agentsafe.control_sha256": hashlib.sha256(control.read_bytes()).hexdigest()}
    return {}


def build_kind(client, kind: str, base: str, force: bool = False) -> bool:  # type: ignore[no-untyped-def]
    """Build agentsafe/<kind> from sandboxes/<kind>/Dockerfile; False when there is none yet."""
    dockerfile = SANDBOXES / kind / "Dockerfile"
    if not dockerfile.exists():
        log(f"{kind}: no {dockerfile.relative_to(ROOT)} yet, skipped")
        return False
    reqs = pinned(KIND_REQUIREMENTS.get(kind, []))
    wheels = CACHE / "wheels" / hashlib.sha256(" ".join(sorted(reqs)).encode()).hexdigest()[:12]
    _download_wheels(reqs, wheels)
    context, inputs = _context_tar(kind, wheels)
    base_id = client.images.get(base).id if _has_image(client, base) else base
    inputs = hashlib.sha256(f"{inputs}{base_id}".encode()).hexdigest()[:16]
    tag = image_name(kind)
    old_id = client.images.get(tag).id if _has_image(client, tag) else None
    if old_id and not force and client.images.get(tag).labels.get("agentsafe.inputs") == inputs:
        log(f"{tag}: up to date")
        return True
    log(f"building {tag} FROM {base}")
    t0 = time.monotonic()
    for chunk in client.api.build(fileobj=io.BytesIO(context), custom_context=True, tag=tag,
                                  buildargs={"BASE": base}, labels={**_file_labels(kind),
                                                                    "agentsafe.inputs": inputs,
                                                                    "agentsafe.kind": kind},
                                  rm=True, forcerm=True, decode=True,
                                  # our base needs no network; a stock base may apt-get
                                  network_mode="none" if base == BASE_IMAGE else "host"):
        if "error" in chunk:
            sys.exit(f"error: building {tag}: {chunk['error'].strip()}")
        line = chunk.get("stream", "").rstrip()
        if line.startswith("Step "):
            log(f"  {line}")
    log(f"{tag}: built in {time.monotonic() - t0:.1f}s")
    if old_id and old_id != client.images.get(tag).id:
        # the superseded image, unless a container or another tag still uses it
        with contextlib.suppress(Exception):
            client.images.remove(old_id, noprune=False)
    return True


def main(argv: list[str] | None = None) -> int:
    """CLI: build the base image then the requested kinds (default: all that have a Dockerfile)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kinds", nargs="*", metavar="KIND",
                    help="which images to build: os, web, mobile (default: all)")
    ap.add_argument("--base", default=BASE_IMAGE,
                    help="base image (default: the mmdebstrap one; e.g. python:3.11-slim)")
    ap.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = ap.parse_args(argv)
    unknown = [k for k in args.kinds if k not in KINDS]
    if unknown:
        ap.error(f"unknown kind(s) {unknown}; choose from {list(KINDS)}")
    client = _client()
    t0 = time.monotonic()
    if args.base == BASE_IMAGE:
        build_base(client, force=args.force)
    for kind in args.kinds or KINDS:
        build_kind(client, kind, args.base, force=args.force)
    log(f"done in {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
