"""YAML loading that remembers where every node starts, after sandboxed templating.

A spec file is first rendered with Jinja2 in a sandbox (only when it contains
``{{`` or ``{%``), then parsed with a safe YAML loader whose mappings and
sequences are :class:`Mapping` / :class:`Sequence` subclasses carrying the line
and column of each of their children. Lines count in the rendered text, which
matches the file as long as templates do not span lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from kpispec.errors import Location, SpecError

__all__ = ["MAX_FILE_BYTES", "SpecDict", "SpecList", "load_yaml", "locate", "render_template"]

#: Spec files larger than this are refused before parsing.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Templated output larger than this is refused.
MAX_RENDERED_BYTES = 10 * 1024 * 1024
#: Aliases a file may expand before it is refused (billion-laughs guard).
MAX_ALIASES = 200


class SpecDict(dict):  # type: ignore[type-arg]
    """A YAML mapping that knows where it and each of its values start."""

    mark: tuple[int, int] = (0, 0)
    key_marks: dict[str, tuple[int, int]]
    value_marks: dict[str, tuple[int, int]]


class SpecList(list):  # type: ignore[type-arg]
    """A YAML sequence that knows where it and each of its items start."""

    mark: tuple[int, int] = (0, 0)
    item_marks: list[tuple[int, int]]


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Loader(yaml.SafeLoader):
    """SafeLoader (no arbitrary tags) that records marks and refuses duplicate keys."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                line, col = event.start_mark.line + 1, event.start_mark.column + 1
                raise SpecError(f"more than {MAX_ALIASES} YAML aliases; refusing to expand them",
                                Location(self.file, line, col))
        return super().compose_node(parent, index)

    def construct_spec_mapping(self, node: yaml.MappingNode) -> SpecDict:
        result = SpecDict()
        result.mark = _mark(node)
        result.key_marks = {}
        result.value_marks = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                line, col = _mark(key_node)
                raise SpecError("mapping keys must be plain scalars", Location(self.file, line, col))
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                line, col = _mark(key_node)
                first = result.key_marks[key]
                raise SpecError(f"duplicate key {key!r} (first at line {first[0]})",
                                Location(self.file, line, col), "Remove one of them")
            result[key] = self.construct_object(value_node, deep=True)
            result.key_marks[key] = _mark(key_node)
            result.value_marks[key] = _mark(value_node)
        return result

    def construct_spec_sequence(self, node: yaml.SequenceNode) -> SpecList:
        result = SpecList(self.construct_object(child, deep=True) for child in node.value)
        result.mark = _mark(node)
        result.item_marks = [_mark(child) for child in node.value]
        return result


# YAML 1.2 booleans: only true/false. YAML 1.1's on/off/yes/no would turn a join's
# `on:` key into True (the "Norway problem").
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                        _Loader.construct_spec_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
                        _Loader.construct_spec_sequence)


def render_template(text: str, file: str, context: Mapping[str, Any]) -> str:
    """Render ``text`` with Jinja2 in a sandbox; a template error names the file and line.

    >>> render_template("margin: {{ var('m', 0.8) }}", "x.yaml", {"var": lambda n, d=None: d})
    'margin: 0.8'
    """
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return text
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    env.globals.clear()
    env.globals.update(context)
    try:
        rendered = env.from_string(text).render()
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(f"template syntax error: {exc.message}", Location(file, exc.lineno or 0, 1)) from None
    except SpecError:
        raise
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise SpecError(f"template error: {exc}", Location(file, _template_line(exc), 1),
                        "Check the {{ ... }} expressions in this file") from None
    if len(rendered) > MAX_RENDERED_BYTES:
        raise SpecError(f"templating produced more than {MAX_RENDERED_BYTES} bytes", Location(file))
    return rendered


def _template_line(exc: BaseException) -> int:
    tb = exc.__traceback__
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def load_yaml(path: Path | str, display: str | None = None,
              context: Mapping[str, Any] | None = None,
              text: str | None = None) -> Any:
    """Load one spec file; raise :class:`SpecError` with file:line:col on any problem.

    Args:
        path: the file to read (ignored when ``text`` is given).
        display: the file name to show in messages (default: ``path``).
        context: templating functions and values; None skips templating.
        text: the file's content, when already read.
    """
    name = display or str(path)
    if text is None:
        p = Path(path)
        try:
            size = p.stat().st_size
            if size > MAX_FILE_BYTES:
                raise SpecError(f"file is {size} bytes; spec files are limited to {MAX_FILE_BYTES}",
                                Location(name))
            raw = p.read_bytes()
        except OSError as exc:
            raise SpecError(f"cannot read file: {exc.strerror}", Location(name)) from None
        if b"\x00" in raw:
            raise SpecError("not a text file (it contains NUL bytes)", Location(name))
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - raw.rfind(b"\n", 0, exc.start)
            raise SpecError("not UTF-8 text", Location(name, line, column),
                            "Save the file as UTF-8") from None
    if context is not None:
        text = render_template(text, name, context)
    loader = _Loader(text, name)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "<stream end>" in (exc.problem or ""):
            mark = exc.context_mark  # point at the unclosed bracket, not past the last line
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"invalid YAML: {problem}", Location(name, line, col)) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", Location(name)) from None
    except RecursionError:
        raise SpecError("YAML nesting is too deep", Location(name)) from None
    finally:
        loader.dispose()


def locate(root: Any, path: tuple[str | int, ...], file: str,
           render: Callable[[tuple[str | int, ...]], str] | None = None) -> Location:
    """The location of the node at ``path`` below ``root`` (the nearest known ancestor's)."""
    line, col = getattr(root, "mark", (0, 0))
    node: Any = root
    for step in path:
        if isinstance(node, SpecDict) and isinstance(step, str) and step in node:
            line, col = node.value_marks.get(step, (line, col))
            node = node[step]
        elif isinstance(node, SpecList) and isinstance(step, int) and 0 <= step < len(node):
            line, col = node.item_marks[step]
            node = node[step]
        else:
            break
    return Location(file, line, col, (render or json_path)(path))


def json_path(path: tuple[str | int, ...]) -> str:
    """``("metrics", 2, "denominator")`` → ``metrics[2].denominator``."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out
