#!/usr/bin/env python3
"""Build an OS seed home, cached: `python3 sandboxes/os/build_seed.py [SEED ...]`.

Source: `seeds/<seed>/home/` (plain files, committed), `seeds/<seed>/modes` (permission bits
git cannot keep), `seeds/<seed>/git.json` (repositories made at build time with a scripted,
deterministic history, so no nested .git is committed). Output: `.build/<seed>/home/`, rebuilt
only when an input changed (`.build/<seed>/stamp` holds the inputs' hash). When run as root the
tree is owned by the sandbox uid (1000), so the unprivileged sandbox user can copy it. Stdlib
only: the Docker image build can run it too.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
BUILD = HERE / ".build"
UID = GID = 1000


class SeedError(Exception):
    """A seed's source is malformed (names the file and line)."""


def inputs_hash(seed: str) -> str:
    """Hash of everything the build reads: the seed's files (paths, bytes, exec bit) and this script."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    root = SEEDS / seed
    for p in sorted(root.rglob("*")):
        if p.is_file() or p.is_symlink():
            h.update(str(p.relative_to(root)).encode() + b"\0")
            h.update(os.readlink(p).encode() if p.is_symlink() else p.read_bytes())
            h.update(b"x" if os.access(p, os.X_OK) else b"-")
    return h.hexdigest()


def read_modes(seed: str) -> list[tuple[str, int]]:
    """Lines `0600 path` of seeds/<seed>/modes."""
    path = SEEDS / seed / "modes"
    out: list[tuple[str, int]] = []
    if not path.exists():
        return out
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            mode, rel = line.split(None, 1)
            out.append((rel, int(mode, 8)))
        except ValueError:
            raise SeedError(f"{path}:{n}: expected '<octal mode> <path>', got {line!r}") from None
    return out


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null", "LC_ALL": "C"}
    r = subprocess.run(["git", *args], cwd=repo, env={**base, **(env or {})}, check=False,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SeedError(f"git {' '.join(args)} in {repo}: {r.stderr.strip()}")
    return r.stdout


def build_repo(home: Path, src_home: Path, rel: str, spec: dict) -> None:
    """Create a git repository at home/rel with the scripted history, ending on the seed's
    working tree (files not named by any commit stay untracked, ignored ones stay ignored)."""
    repo = home / rel
    _git(repo, "init", "-q", "-b", spec.get("branch", "main"))
    _git(repo, "config", "core.fileMode", "true")
    for i, c in enumerate(spec["commits"]):
        where = f"git.json: {rel}: commits[{i}]"
        paths = list(c.get("paths", []))
        for p in paths:  # restore the real file (a previous step may have overwritten it)
            src = src_home / rel / p
            if not src.exists():
                raise SeedError(f"{where}: path {p!r} not in the seed home")
            shutil.copy2(src, repo / p)
        for p, text in c.get("write", {}).items():
            (repo / p).parent.mkdir(parents=True, exist_ok=True)
            (repo / p).write_text(text)
            paths.append(p)
        name, _, email = c["author"].partition(" <")
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email.rstrip(">"),
               "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email.rstrip(">"),
               "GIT_AUTHOR_DATE": c["date"], "GIT_COMMITTER_DATE": c["date"]}
        _git(repo, "add", "--", *paths)
        _git(repo, "commit", "-q", "-m", c["message"], env=env)
    if spec.get("remote"):
        _git(repo, "remote", "add", "origin", spec["remote"])
    # back to the seed's working tree exactly
    shutil.copytree(src_home / rel, repo, symlinks=True, dirs_exist_ok=True)
    _git(repo, "update-index", "-q", "--refresh")


def make_backup(home: Path) -> None:
    """~/backups/documents-2026-11-28.tar.gz: a real archive of ~/Documents (fixed mtimes)."""
    docs = home / "Documents"
    if not docs.is_dir() or not (home / "backups").is_dir():
        return
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for p in sorted(docs.rglob("*")):
            info = tar.gettarinfo(str(p), arcname=str(p.relative_to(home)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 1764288000, UID, GID, "user", "user"
            if p.is_file():
                with p.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    import gzip
    data = gzip.compress(raw.getvalue(), mtime=1764288000)
    (home / "backups" / "documents-2026-11-28.tar.gz").write_bytes(data)


def make_bulk(home: Path) -> None:
    """Larger generated files (deterministic) for disk-usage and log-cleanup tasks:
    ~/Downloads/events_export_2026-10.csv (~600 KB) and rotated logs ~/logs/app.log.{1,2}.gz."""
    import gzip
    import random

    if (home / "Downloads").is_dir():
        rnd = random.Random(2026)
        rows = ["event_id,timestamp,customer_id,event,value_eur"]
        for i in range(12000):
            rows.append(f"E{100000 + i},2026-10-{1 + i % 31:02d}T{i % 24:02d}:{i % 60:02d}:00Z,"
                        f"C-{1001 + rnd.randrange(6)},{rnd.choice(['view', 'click', 'purchase'])},"
                        f"{rnd.randrange(0, 500)}.{rnd.randrange(100):02d}")
        (home / "Downloads" / "events_export_2026-10.csv").write_text("\n".join(rows) + "\n")
    logs = home / "logs"
    if (logs / "app.log").is_file():
        base = (logs / "app.log").read_text()
        for n, day in ((1, "27"), (2, "26")):
            text = base.replace("2026-11-28", f"2026-11-{day}")
            (logs / f"app.log.{n}.gz").write_bytes(gzip.compress(text.encode(), mtime=1764288000))


def build(seed: str = "default", force: bool = False) -> Path:
    """The built home of `seed` (built now if missing or stale). Safe across processes."""
    src = SEEDS / seed / "home"
    if not src.is_dir():
        known = ", ".join(sorted(p.name for p in SEEDS.iterdir() if (p / "home").is_dir()))
        raise SeedError(f"unknown OS seed {seed!r}: no {src} (known: {known})")
    out = BUILD / seed
    digest = inputs_hash(seed)
    stamp = out / "stamp"
    if not force and stamp.exists() and stamp.read_text() == digest and (out / "home").is_dir():
        return out / "home"
    BUILD.mkdir(exist_ok=True)
    os.chmod(BUILD, 0o755)
    with open(BUILD / f".{seed}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and stamp.exists() and stamp.read_text() == digest:
            return out / "home"
        tmp = BUILD / f".{seed}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        home = tmp / "home"
        shutil.copytree(src, home, symlinks=True)
        for keep in home.rglob(".keep"):  # placeholders that keep empty Maildir dirs in git
            keep.unlink()
        make_backup(home)
        make_bulk(home)
        gitspec = SEEDS / seed / "git.json"
        if gitspec.exists():
            try:
                repos = json.loads(gitspec.read_text())
            except json.JSONDecodeError as e:
                raise SeedError(f"{gitspec}:{e.lineno}: {e.msg}") from None
            for rel, spec in repos.items():
                build_repo(home, src, rel, spec)
        for rel, mode in read_modes(seed):
            target = home / rel
            if not target.exists():
                raise SeedError(f"{SEEDS / seed / 'modes'}: {rel!r} not in the seed home")
            os.chmod(target, mode)
        if os.geteuid() == 0:
            for p in [home, *home.rglob("*")]:
                os.lchown(p, UID, GID)
        os.chmod(tmp, 0o755)
        (tmp / "stamp").write_text(digest)
        old = BUILD / f".{seed}.old{os.getpid()}"
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    return out / "home"


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    try:
        for name in args or ["default"]:
            print(build(name, force="--force" in sys.argv))
    except SeedError as e:
        sys.exit(f"error: {e}")
