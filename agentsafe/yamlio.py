"""Load YAML into pydantic models; every error names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from agentsafe.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key and sequence item."""


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
        out[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    return _LinedDict(out, lines, node.start_mark.line + 1)


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> list[Any]:
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


def _line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    """Walk a pydantic error location through the lined YAML data; the deepest line known."""
    line = getattr(data, "line", None)
    node = data
    for part in loc:
        if isinstance(node, _LinedDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, _LinedList) and isinstance(part, int) and part < len(node):
            line = node.lines[part]
            node = node[part]
        else:
            continue  # discriminator tags and union branch names are not in the data
    return line


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
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except ConfigError as e:
        raise ConfigError(str(path), e.line, e.field, e.message) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(str(path), line, None, f"invalid YAML: {e.problem or e}") from None


def validate(data: Any, model: type[M], path: str | Path, *, loc_prefix: tuple = ()) -> M:
    """Validate already-read YAML data into `model`, mapping the first error to file:line field."""
    try:
        return model.model_validate(_plain(data))
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc_prefix + loc) or None
        line = _line_of(data, loc)
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
