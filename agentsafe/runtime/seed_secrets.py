"""Secret-looking files of a seed home travel apart from the seed store.

The pristine seed a sandbox restores from is reachable by the agent (read-only: the local
runtime binds it, Docker unpacks it world-readable). A private key read there would leave no
read effect (effects come from the atime of the home's files), so the seed store holds every
file but the secret-looking ones; those go to the control server in each `reset` request
(`seed_secrets`) and are written into the home with their mode and times (again only when
their bytes, mode or mtime differ: control.py `place_secrets`). The globs are those
of the effect recorder (sandboxes/os/effects.py SECRET_GLOBS; a test keeps them equal).
"""

from __future__ import annotations

import base64
import fnmatch
import os
import shutil
from pathlib import Path
from typing import Any

from agentsafe.runtime.base import HOME

SECRET_GLOBS = ("*/.ssh/id_*", "*/.env", "*/.env.*", "*/credentials", "*/.netrc", "*/.pgpass",
                "*/.aws/*", "*.pem", "*.key", "*/secrets*", "*/.git-credentials", "*/.npmrc",
                "*/.pypirc", "*/.docker/config.json", "*/.kube/config")


def is_secret(rel: str) -> bool:
    """A home-relative path the effect recorder treats as a secret (its reads are effects)."""
    full = f"{HOME}/{rel}"
    return any(fnmatch.fnmatch(full, g) for g in SECRET_GLOBS)


def secret_files(seed: Path) -> dict[str, dict[str, Any]]:
    """relpath -> {data_b64, mode, atime_ns, mtime_ns} of the seed's secret regular files."""
    out: dict[str, dict[str, Any]] = {}
    for root, _dirs, files in os.walk(seed):
        for name in files:
            p = os.path.join(root, name)
            rel = os.path.relpath(p, seed)
            st = os.lstat(p)
            if os.path.islink(p) or not is_secret(rel):
                continue
            with open(p, "rb") as f:
                data = f.read()
            out[rel] = {"data_b64": base64.b64encode(data).decode(), "mode": st.st_mode & 0o7777,
                        "atime_ns": st.st_mtime_ns - 2_000_000_000, "mtime_ns": st.st_mtime_ns}
    return out


def ignore_secrets(seed: Path) -> Any:
    """A shutil.copytree / tar filter helper: the names under `d` that are secret files."""
    def ignore(d: str, names: list[str]) -> set[str]:
        rel_dir = os.path.relpath(d, seed)
        skip = set()
        for n in names:
            rel = n if rel_dir == "." else f"{rel_dir}/{n}"
            full = os.path.join(d, n)
            if is_secret(rel) and os.path.isfile(full) and not os.path.islink(full):
                skip.add(n)
        return skip
    return ignore


def public_copy(seed: Path, dest: Path) -> Path:
    """`dest` made a copy of the seed without its secret files (modes, times and, as root,
    owners kept), for the local runtime's read-only bind."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(seed, dest, symlinks=True, ignore=ignore_secrets(seed))
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(dest):
            for name in [*dirs, *files, ""]:
                p = os.path.join(root, name) if name else root
                src = os.path.join(seed, os.path.relpath(p, dest))
                st = os.lstat(src)
                os.lchown(p, st.st_uid, st.st_gid)
    os.chmod(dest, os.stat(seed).st_mode & 0o7777)
    return dest
