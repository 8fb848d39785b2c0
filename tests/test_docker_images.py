"""The offline image builder: what goes into each build context, pinned wheels, and idempotent
rebuilds (an image whose inputs did not change is not rebuilt)."""

from __future__ import annotations

import importlib.util
import io
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

import pytest

from agentsafe.runtime import docker as dk

ROOT = Path(__file__).resolve().parent.parent


def _builder():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("agentsafe_build_images",
                                                  ROOT / "sandboxes" / "build_images.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _names(context: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(context)) as tar:
        return set(tar.getnames())


def test_os_context_holds_only_dockerfile_and_control_script(tmp_path: Path) -> None:
    b = _builder()
    ctx, digest = b._context_tar("os", tmp_path)
    assert _names(ctx) == {"Dockerfile", "control.py", "wheels/requirements.txt"}
    _, digest2 = b._context_tar("os", tmp_path)
    assert digest == digest2  # deterministic: the same inputs give the same hash


def test_app_context_skips_caches_and_databases(tmp_path: Path) -> None:
    b = _builder()
    (tmp_path / "x-1.0-py3-none-any.whl").write_bytes(b"wheel")
    ctx, _ = b._context_tar("web", tmp_path)
    names = _names(ctx)
    assert "server.py" in names and "Dockerfile" in names
    assert "wheels/x-1.0-py3-none-any.whl" in names
    assert not any("__pycache__" in n or n.endswith((".pyc", ".sqlite")) for n in names)
    with tarfile.open(fileobj=io.BytesIO(ctx)) as tar:
        reqs = tar.extractfile("wheels/requirements.txt").read().decode()  # type: ignore[union-attr]
    assert f"starlette=={version('starlette')}" in reqs.split()  # same versions as the venv


def test_unknown_kind_is_refused() -> None:
    b = _builder()
    with pytest.raises(SystemExit):
        b.main(["nope"])


@pytest.mark.docker
@pytest.mark.usefixtures("docker_ready")
def test_rebuild_is_skipped_when_inputs_are_unchanged() -> None:
    b = _builder()
    client = dk.docker_client()
    b.build_base(client)  # idempotent: builds the base offline only when it is missing
    assert b._has_image(client, b.BASE_IMAGE)
    # the base is labelled with its package list, so a package added to it triggers a rebuild
    assert client.images.get(b.BASE_IMAGE).labels.get("agentsafe.base") == b.base_key()
    assert b.build_kind(client, "os", b.BASE_IMAGE)
    first = client.images.get(b.image_name("os"))
    assert b.build_kind(client, "os", b.BASE_IMAGE)
    assert client.images.get(b.image_name("os")).id == first.id
    labels = first.labels
    assert labels["agentsafe.kind"] == "os" and len(labels["agentsafe.inputs"]) == 16
    control = (ROOT / "sandboxes" / "os" / "control.py").read_bytes()
    import hashlib

    assert labels["agentsafe.control_sha256"] == hashlib.sha256(control).hexdigest()
