"""The OS control script's file logic on plain directories (no sandbox needed): the incremental
reset must always end byte- and mode-identical to the seed, placements are verbatim."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from agentsafe.paths import SANDBOXES_DIR


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("os_control_t", SANDBOXES_DIR / "os" / "control.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


control = _load()


def tree(root: Path) -> dict[str, tuple]:
    """Everything that must match the seed: type, mode, bytes / link target, dir mtime."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", st.st_mode & 0o7777, st.st_mtime_ns)
            else:
                out[rel] = ("file", st.st_mode & 0o7777, p.read_bytes(), st.st_mtime_ns)
    return out


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    s = tmp_path / "seed"
    (s / "docs" / "deep").mkdir(parents=True)
    (s / "docs" / "a.txt").write_text("alpha\n")
    (s / "docs" / "deep" / "b.txt").write_text("beta\n")
    (s / "secret").mkdir(mode=0o700)
    (s / "secret" / "key").write_text("KEY")
    os.chmod(s / "secret" / "key", 0o600)
    (s / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(s / "run.sh", 0o755)
    os.symlink("docs/a.txt", s / "link")
    return s


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    control._MANIFEST.update(key=None, entries={}, listing=[])
    return h


DAMAGE = [
    "rm -rf docs",
    "echo x >> docs/a.txt",
    "cp -p docs/a.txt /tmp/_a && sed -i s/alpha/ALPHA/ docs/a.txt && touch -r /tmp/_a docs/a.txt",
    "chmod -R 777 . && chmod 000 secret",
    "mv docs/a.txt docs/a2.txt",
    "ln docs/a.txt hard && echo y >> hard",
    "rm link && ln -s /etc/passwd link",
    "rm -rf docs/deep && echo file > docs/deep",
    "rm run.sh && mkdir run.sh && echo in > run.sh/x",
    "mkdir -p new/dir && echo n > new/dir/f && chmod 000 new",
    "rm -rf secret && ln -s /tmp secret",
    "touch docs/a.txt",
    "true",
]


@pytest.mark.parametrize("damage", DAMAGE)
def test_restore_after_damage_equals_the_seed(seed: Path, home: Path, damage: str) -> None:
    control.restore_home(str(seed), str(home))
    want = tree(seed)
    assert tree(home) == want
    subprocess.run(["bash", "-c", damage], cwd=home, check=True)
    copied = control.restore_home(str(seed), str(home))
    assert tree(home) == want, damage
    if damage == "true":
        assert copied == 0  # nothing changed: nothing copied
    # and again, from the manifest the restore itself recorded
    subprocess.run(["bash", "-c", damage], cwd=home, check=True)
    control.restore_home(str(seed), str(home))
    assert tree(home) == want, damage


def test_a_new_seed_is_copied_in_full(seed: Path, home: Path, tmp_path: Path) -> None:
    control.restore_home(str(seed), str(home))
    other = tmp_path / "other"
    shutil.copytree(seed, other, symlinks=True)
    (other / "only-here.txt").write_text("o")
    control.restore_home(str(other), str(home))
    assert tree(home) == tree(other)


def test_placements_are_verbatim(home: Path) -> None:
    (home / "f.txt").write_text("one\nMARK\ntwo")
    text = "${HOME} $(id) `x` {{y}} 'q' \"d\""
    control.place({"path": "f.txt", "text": text, "position": "append"}, str(home))
    assert (home / "f.txt").read_text() == f"one\nMARK\ntwo\n{text}"
    control.place({"path": "f.txt", "text": "TOP", "position": "prepend"}, str(home))
    assert (home / "f.txt").read_text().startswith("TOP\none\n")
    control.place({"path": "f.txt", "text": "NEW", "position": "replace", "marker": "MARK"},
                  str(home))
    assert "MARK" not in (home / "f.txt").read_text() and "\nNEW\n" in (home / "f.txt").read_text()
    control.place({"path": "f.txt", "text": "END", "position": "replace", "marker": "absent"},
                  str(home))
    assert (home / "f.txt").read_text().endswith("\nEND")
    control.place({"path": "~/d/s.sh", "text": "#!/bin/sh\n", "position": "create", "mode": 0o755},
                  str(home))
    assert (home / "d" / "s.sh").stat().st_mode & 0o777 == 0o755


def test_placements_cannot_escape_the_home(home: Path) -> None:
    for bad in ("../x", "/etc/passwd", "a/../../x"):
        with pytest.raises(control.BadRequest):
            control.place({"path": bad, "text": "x"}, str(home))
    with pytest.raises(control.BadRequest):
        control.place({"path": "f", "text": "x", "position": "replace"}, str(home))


def test_run_caps_output_and_reports_timeouts() -> None:
    r = control.run("head -c 100000 /dev/zero; echo err >&2", timeout=10, cwd="/",
                    max_output=1000)
    import base64
    assert r["truncated"] and len(base64.b64decode(r["stdout_b64"])) == 1000
    assert base64.b64decode(r["stderr_b64"]) == b"err\n" and r["exit_code"] == 0
    r = control.run("sleep 5", timeout=0.2, cwd="/")
    assert r["timed_out"] and r["exit_code"] == 124 and r["duration"] < 3
    r = control.run("exit 3", timeout=5, cwd="/")
    assert r["exit_code"] == 3 and not r["timed_out"] and not r["truncated"]
