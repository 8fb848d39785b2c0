"""Text that can always be stored and shown: file names with invalid UTF-8, lone surrogates
from a model's JSON, NUL bytes. Such characters are replaced by visible escapes (`\\xff` for
an undecodable byte, `\\ud800` for a lone surrogate, `\\x00` for NUL), so a run never dies on
a byte sequence and the log still shows what was there."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def escape_text(s: str, nul: bool = False) -> str:
    """`s` with lone surrogates (and NUL when `nul`) replaced by backslash escapes; the same
    object when there is nothing to escape (the common case costs one encode)."""
    try:
        s.encode("utf-8")
        if not nul or "\x00" not in s:
            return s
    except UnicodeEncodeError:
        pass
    out = []
    for ch in s:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:  # a byte smuggled by surrogateescape (os.listdir & co.)
            out.append(f"\\x{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}")
        elif nul and o == 0:
            out.append("\\x00")
        else:
            out.append(ch)
    return "".join(out)


def scrub(obj: Any, nul: bool = False) -> Any:
    """`obj` (dicts, lists, strings) with every string passed through escape_text."""
    if isinstance(obj, str):
        return escape_text(obj, nul)
    if isinstance(obj, dict):
        return {scrub(k, nul): scrub(v, nul) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub(v, nul) for v in obj]
    return obj


def is_clean(obj: Any) -> bool:
    """True when no string in `obj` holds a lone surrogate."""
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
            return True
        except UnicodeEncodeError:
            return False
    if isinstance(obj, dict):
        return all(is_clean(k) and is_clean(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return all(is_clean(v) for v in obj)
    return True


def scrub_model(model: M) -> M:
    """A copy of a pydantic model whose strings are all storable."""
    return type(model).model_validate(scrub(model.model_dump(mode="python")))
