"""Find, parse and validate salespipe.yaml, reporting the line of every mistake.

Order of lookup: --config, $SALESPIPE_CONFIG, ./salespipe.yaml. Values `env:NAME`
are read from the environment; an unset variable is an error naming key and line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from salespipe.config.model import Config
from salespipe.errors import ConfigError

Loc = tuple[str | int, ...]


def find_config(explicit: str | Path | None) -> Path:
    tried: list[str] = []
    if explicit:
        path = Path(explicit)
        if path.is_file():
            return path
        raise ConfigError(
            f"config file not found: {path}",
            hint="pass an existing file to --config, or create one with `salespipe init`",
        )
    env = os.environ.get("SALESPIPE_CONFIG")
    if env:
        if Path(env).is_file():
            return Path(env)
        tried.append(f"$SALESPIPE_CONFIG={env}")
    default = Path("salespipe.yaml")
    if default.is_file():
        return default
    tried.append(str(default.resolve()))
    raise ConfigError(
        "no salespipe.yaml found (tried " + ", ".join(tried) + ")",
        hint="run `salespipe init` to create one, or pass --config PATH",
    )


def _to_python(node: yaml.Node, loc: Loc, lines: dict[Loc, int], file: str) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in out:
                raise ConfigError(
                    f"key '{key}' appears twice",
                    file=file,
                    line=key_node.start_mark.line + 1,
                    key=key,
                )
            out[key] = _to_python(value_node, (*loc, key), lines, file)
            lines[(*loc, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*loc, i), lines, file) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    value = (
        yaml.safe_load(yaml.serialize(node)) if node.tag != "tag:yaml.org,2002:str" else node.value
    )
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ConfigError(
                f"environment variable {name} is not set",
                file=file,
                line=node.start_mark.line + 1,
                key=_dotted(loc),
                hint=f"export {name}=... before running salespipe",
            )
        return os.environ[name]
    return value


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _line_for(loc: Loc, lines: dict[Loc, int]) -> int | None:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def parse_config(
    text: str, *, file: str = "salespipe.yaml", base_dir: Path | None = None
) -> Config:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=file,
            line=mark.line + 1 if mark else None,
            hint="check indentation and quoting on that line",
        ) from None
    lines: dict[Loc, int] = {}
    data = {} if root is None else _to_python(root, (), lines, file)
    if not isinstance(data, dict):
        raise ConfigError("the config must be a mapping of keys to values", file=file, line=1)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, lines, file) from None
    return config.model_copy(update={"base_dir": base_dir or Path(".")})


def _translate(exc: ValidationError, lines: dict[Loc, int], file: str) -> ConfigError:
    messages: list[str] = []
    first_line: int | None = None
    first_key: str | None = None
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper()))
        # pydantic adds the union member to loc ("str", "ExprColumn"); drop those parts
        loc = tuple(
            p for p in loc if p not in ("str", "int", "float", "bool", "list[str]", "dict[str,str]")
        )
        key = _dotted(loc) or "(top level)"
        line = _line_for(loc, lines)
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{key}'"
        elif err["type"] == "missing":
            msg = f"missing required key '{key}'"
        else:
            detail = err["msg"].removeprefix("Value error, ")
            msg = f"{key}: {detail}"
        messages.append(msg + (f" (line {line})" if line else ""))
        if first_line is None:
            first_line, first_key = line, key
    unique = list(dict.fromkeys(messages))
    return ConfigError(
        "; ".join(unique[:5]) + (f"; and {len(unique) - 5} more" if len(unique) > 5 else ""),
        file=file,
        line=first_line,
        key=first_key,
        hint="see docs/config.md for every key",
    )


def load_config(explicit: str | Path | None = None) -> Config:
    path = find_config(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config: {exc}", file=str(path)) from None
    return parse_config(text, file=str(path), base_dir=path.resolve().parent)
