"""Load YAML into pydantic models; every error names the file, the line and the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from agentsafe.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key and sequence item."""


# a comment glued to a word (`order #1060`) right after a plain scalar: almost always text that
# YAML silently cut off, since ` #` starts a comment even in the middle of a sentence
_GLUED_COMMENT = re.compile(r"[ \t]+#[^\s#!]")


def _check_cut_text(node: yaml.Node, field: str) -> None:
    """Refuse a plain scalar that a ` #word` comment cut short: the rest of the text is lost."""
    if not isinstance(node, yaml.ScalarNode) or node.style or node.tag != "tag:yaml.org,2002:str":
        return
    end = node.end_mark
    buf = end.buffer
    if buf is None:
        return
    eol = buf.find("\n", end.pointer)
    rest = buf[end.pointer: eol if eol >= 0 else len(buf)]
    if _GLUED_COMMENT.match(rest):
        cut = rest.strip().rstrip("\x00")
        raise ConfigError("", end.line + 1, field,
                          f"the text is cut at {cut!r}: in YAML an unquoted ' #' starts a comment; "
                          "quote the whole value")


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise ConfigError(
                "", key_node.start_mark.line + 1, str(key), "duplicate key in mapping"
            )
        _check_cut_text(value_node, str(key))
        out[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    return _LinedDict(out, lines, node.start_mark.line + 1)


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> list[Any]:
    for i, child in enumerate(node.value):
        _check_cut_text(child, f"[{i}]")
    items = [loader.construct_object(child, deep=True) for child in node.value]
    return _LinedList(items, [c.start_mark.line + 1 for c in node.value], node.start_mark.line + 1)


class _LinedDict(dict):
    def __init__(self, data: dict, lines: dict, line: int) -> None:
        super().__init__(data)
        self.lines, self.line = lines, line


class _LinedList(list):
    def __init__(self, data: list, lines: list[int], line: int) -> None:
        super().__init__(data)
        self.lines, self.line = lines, line


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _walk(data: Any, loc: tuple[Any, ...]) -> tuple[int | None, tuple[Any, ...]]:
    """Walk a pydantic error location through the lined YAML data: the deepest line known and
    the location without union branch names and discriminator tags (which are not in the data)."""
    line = getattr(data, "line", None)
    node, real = data, []
    for part in loc:
        if isinstance(node, dict) and part in node:
            line = getattr(node, "lines", {}).get(part, line)
            node = node[part]
            real.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            line = node.lines[part] if isinstance(node, _LinedList) else line
            node = node[part]
            real.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and part not in node and (
            part[:1].isupper() or part in ("str", "int", "float", "bool", "list", "dict")
            or (node.get("kind") == part)
        ):
            continue  # a union branch name or a discriminator tag
        else:
            real.append(part)  # a missing field: name it
    return line, tuple(real)


def _line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    return _walk(data, loc)[0]


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file, keeping line numbers; syntax errors become ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(str(path), None, None, f"cannot read file: {e.strerror}") from e
    except UnicodeDecodeError as e:
        line = text_line(path.read_bytes(), e.start)
        raise ConfigError(str(path), line, None,
                          f"not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}); "
                          "save the file as UTF-8") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except ConfigError as e:
        raise ConfigError(str(path), e.line, e.field, e.message) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(str(path), line, None, f"invalid YAML: {e.problem or e}") from None


def text_line(data: bytes, offset: int) -> int:
    """The 1-based line of a byte offset."""
    return data.count(b"\n", 0, offset) + 1


def validate(data: Any, model: type[M], path: str | Path, *, loc_prefix: tuple = ()) -> M:
    """Validate already-read YAML data into `model`, mapping the first error to file:line field."""
    try:
        return model.model_validate(_plain(data))
    except ValidationError as e:
        # the deepest error is the most specific (a union reports one error per branch)
        err = max(e.errors(), key=lambda x: len(x["loc"]))
        line, loc = _walk(data, tuple(err["loc"]))
        field = ".".join(str(p) for p in loc_prefix + loc) or None
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise ConfigError(str(path), line, field, err["msg"] + more) from None


def load_model(path: str | Path, model: type[M]) -> M:
    """Read a YAML file into a model; every error is a ConfigError naming file, line and field."""
    data = read_yaml(path)
    if data is None:
        raise ConfigError(str(path), 1, None, "file is empty")
    return validate(data, model, path)


def line_of(data: Any, *loc: Any) -> int | None:
    """Public helper: the line of a field in lined YAML data (for errors found after validation)."""
    return _line_of(data, loc)
