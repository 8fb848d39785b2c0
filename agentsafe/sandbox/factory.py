"""Build a sandbox for a kind and runtime. Each kind lives in its own module, imported lazily
so that an OS-only run never imports Playwright."""

from __future__ import annotations

import importlib
from typing import Any

from agentsafe.errors import ConfigError
from agentsafe.sandbox.base import Sandbox

# kind -> "module:Class"; the class is constructed as Class(runtime=..., **options)
SANDBOX_KINDS: dict[str, str] = {
    "os": "agentsafe.sandbox.os:OSSandbox",
    "web": "agentsafe.sandbox.web:WebSandbox",
    "mobile": "agentsafe.sandbox.mobile:MobileSandbox",
}


def make_sandbox(kind: str, runtime: str = "local", **options: Any) -> Sandbox:
    """A new, not yet started sandbox of `kind` on `runtime` ("local" or "docker")."""
    try:
        target = SANDBOX_KINDS[kind]
    except KeyError:
        raise ConfigError("", None, "sandbox.kind", f"unknown sandbox kind '{kind}'") from None
    module_name, cls_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls(runtime=runtime, **options)
