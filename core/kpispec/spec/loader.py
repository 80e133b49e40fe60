"""YAML loading that remembers where every node starts, after sandboxed templating.

A spec file is first rendered with Jinja2 in a sandbox (only when it contains
``{{``, ``{%`` or ``{#``), then parsed with a safe YAML loader whose mappings and
sequences are :class:`Mapping` / :class:`Sequence` subclasses carrying the line
and column of each of their children. Lines count in the rendered text, which
matches the file as long as templates do not span lines.

Both steps are bounded, so a hostile file fails fast with one message naming
file:line:col instead of eating memory or time:

* the template sandbox exposes no Python internals, no files and no
  environment (only the functions the project hands it, such as ``var`` and
  ``env_var``); it keeps the filters and string methods that cannot blow up,
  and bounds every string, list and number it builds, the total text it
  emits (:data:`MAX_RENDERED_BYTES`), loop iterations
  (:data:`MAX_TEMPLATE_ITERATIONS`) and time (:data:`MAX_RENDER_SECONDS`);
* the YAML loader constructs only plain data (no ``!!python/…`` or other
  explicit tags), and refuses files over :data:`MAX_FILE_BYTES`, nesting
  deeper than :data:`MAX_DEPTH`, more than :data:`MAX_ALIASES` aliases, a
  document that aliases expand to more than :data:`MAX_NODES` nodes
  ("billion laughs") and recursive aliases.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from kpispec.errors import Location, SpecError

if TYPE_CHECKING:
    from jinja2 import nodes as jinja_nodes

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_RENDERED_BYTES",
    "MAX_RENDER_SECONDS",
    "MAX_TEMPLATE_ITERATIONS",
    "SpecDict",
    "SpecList",
    "load_yaml",
    "locate",
    "render_template",
]

#: Spec files larger than this are refused before parsing.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Templated output larger than this is refused; so is any one string, or all the text
#: a template emits (into its output or into ``{% set %}`` blocks and macros) together.
MAX_RENDERED_BYTES = 10 * 1024 * 1024
#: Loop iterations a template may run, all its loops together.
MAX_TEMPLATE_ITERATIONS = 100_000
#: Seconds a template may take to render.
MAX_RENDER_SECONDS = 5.0
#: Items a list or tuple built in a template may hold.
MAX_TEMPLATE_ITEMS = 100_000
#: Bits an integer computed in a template may have (about 3,000 decimal digits).
MAX_TEMPLATE_INT_BITS = 10_000
#: Aliases a file may use before it is refused.
MAX_ALIASES = 200
#: Nodes a document may have once every alias is expanded (billion-laughs guard).
MAX_NODES = 1_000_000
#: Mappings and sequences nested deeper than this are refused.
MAX_DEPTH = 64


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


#: Explicit tags a file may write (``!!str 1``): the YAML core schema's, nothing that
#: constructs an object (``!!python/object``), a binary blob, a set or a custom type.
_ALLOWED_TAGS = frozenset({"!", *(f"tag:yaml.org,2002:{t}" for t in
                                  ("str", "int", "float", "bool", "null", "seq", "map"))})


class _SpecLoading:
    """What kpispec's YAML loaders add to PyYAML's: marks, no duplicate keys, bounds.

    Mixed into the pure-Python loader and into the one that reads events from
    libyaml (C); in both, the nodes are composed here in Python, so the checks
    happen before a node is built.
    """

    file: str
    aliases: int
    depth: int
    sizes: dict[int, int]
    too_big: yaml.Node | None

    def _start(self, file: str) -> None:
        self.file = file
        self.aliases = 0
        self.depth = 0
        self.sizes = {}  # id(node) -> node count once aliases are expanded
        self.too_big = None  # the first node that expands past MAX_NODES

    def _error(self, message: str, mark: Any, hint: str = "") -> SpecError:
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        return SpecError(message, Location(self.file, line, col), hint)

    def compose_node(self: Any, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise self._error(f"more than {MAX_ALIASES} YAML aliases; refusing to expand them",
                                  event.start_mark)
            node = super().compose_node(parent, index)  # type: ignore[misc]
            if id(node) not in self.sizes:
                raise self._error(f"YAML alias *{event.anchor} refers to a node that contains it",
                                  event.start_mark, "Recursive aliases are not allowed")
            return node
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _ALLOWED_TAGS:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise self._error(f"invalid YAML: tag {shown!r} is not allowed", event.start_mark,
                              "Spec files hold plain data: strings, numbers, booleans, null, "
                              "lists and mappings")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error(f"YAML nesting is deeper than {MAX_DEPTH} levels", event.start_mark)
        try:
            node = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self.depth -= 1
        assert node is not None
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self.sizes[id(child)] for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(self.sizes[id(k)] + self.sizes[id(v)] for k, v in node.value)
        else:
            size = 1
        if size > MAX_NODES and self.too_big is None:
            self.too_big = node  # reported once the document is composed (sizes are cheap)
        self.sizes[id(node)] = size
        return node

    def construct_spec_mapping(self: Any, node: yaml.MappingNode) -> SpecDict:
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

    def construct_spec_sequence(self: Any, node: yaml.SequenceNode) -> SpecList:
        result = SpecList(self.construct_object(child, deep=True) for child in node.value)
        result.mark = _mark(node)
        result.item_marks = [_mark(child) for child in node.value]
        return result


class _Loader(_SpecLoading, yaml.SafeLoader):
    """The pure-Python loader: the reference, and the one whose messages are reported."""

    def __init__(self, stream: str, file: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._start(file)

    def fetch_flow_sequence_start(self) -> None:
        self._check_flow_level()
        super().fetch_flow_sequence_start()

    def fetch_flow_mapping_start(self) -> None:
        self._check_flow_level()
        super().fetch_flow_mapping_start()

    def _check_flow_level(self) -> None:
        # The scanner reads a [ or { nest ahead of the composer, in time quadratic in its depth.
        if self.flow_level >= MAX_DEPTH:
            raise self._error(f"YAML nesting is deeper than {MAX_DEPTH} levels", self.get_mark())


_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser as _CParser

    class _CLoader(_SpecLoading, yaml.composer.Composer, _CParser,
                   yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """Events from libyaml, ~10x faster than PyYAML's scanner and parser; composed,
        checked and constructed as by :class:`_Loader`. Any problem is reported by
        reading the file again with :class:`_Loader`, so messages never depend on it."""

        def __init__(self, stream: str, file: str) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start(file)

    _FastLoader = _CLoader


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
if _FastLoader is not None:
    _FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers  # type: ignore[attr-defined]
    _FastLoader.yaml_constructors = _Loader.yaml_constructors  # type: ignore[attr-defined]


# -- templating -----------------------------------------------------------------------

#: Filters templates may use: those whose output is bounded by their input. ``replace``
#: and ``join`` are replaced by bounded versions; ``format``, ``center``, ``indent``,
#: ``wordwrap``, ``batch``, ``slice``… (which can multiply their input) are left out.
_SAFE_FILTERS = (
    "abs", "capitalize", "count", "d", "default", "dictsort", "first", "float", "groupby",
    "int", "items", "last", "length", "list", "lower", "map", "max", "min", "reject",
    "rejectattr", "reverse", "round", "select", "selectattr", "sort", "string", "sum",
    "title", "tojson", "trim", "truncate", "unique", "upper", "wordcount",
)
#: Attributes templates may read on built-in values; nothing that copies a value many
#: times over (``center``, ``ljust``, ``zfill``, ``format``, ``int.to_bytes``…).
_SAFE_ATTRIBUTES: tuple[tuple[tuple[type, ...], frozenset[str]], ...] = (
    ((str,), frozenset({
        "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
        "isascii", "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle",
        "isupper", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "rfind",
        "rindex", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith",
        "strip", "swapcase", "title", "upper"})),
    ((bool, int, float), frozenset({"real", "imag", "numerator", "denominator", "is_integer"})),
    ((bytes, bytearray), frozenset()),
    ((list, tuple), frozenset({"count", "index"})),
    ((dict,), frozenset({"get", "items", "keys", "values"})),
)
#: ``%`` string formatting with a width or precision above this is refused.
_MAX_FORMAT_WIDTH = 1_000
_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_LOOP, _CONCAT, _OUT, _SIZE = "__kpispec_loop", "__kpispec_concat", "__kpispec_out", "__kpispec_size"


def _limit_error(message: str) -> Exception:
    from jinja2.exceptions import SecurityError

    return SecurityError(f"template limit: {message}")


class _Budget:
    """What one render may still spend: time, loop iterations and emitted text."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS
        self.iterations = 0
        self.emitted = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _limit_error(f"rendering took more than {MAX_RENDER_SECONDS:g} seconds")

    def emit(self, value: Any) -> str:
        text = value if isinstance(value, str) else str(value)
        self.emitted += len(text)
        if self.emitted > MAX_RENDERED_BYTES:
            raise _limit_error(f"the template produced more than {MAX_RENDERED_BYTES} characters")
        self.tick()
        return text

    def loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.iterations += 1
            if self.iterations > MAX_TEMPLATE_ITERATIONS:
                raise _limit_error(f"loops ran more than {MAX_TEMPLATE_ITERATIONS} iterations")
            self.tick()
            yield item

    def concat(self, *parts: Any) -> str:
        texts = [p if isinstance(p, str) else str(p) for p in parts]
        _check_size(sum(map(len, texts)))
        return "".join(texts)


def _check_size(size: int, items: bool = False) -> None:
    limit = MAX_TEMPLATE_ITEMS if items else MAX_RENDERED_BYTES
    if size > limit:
        raise _limit_error(f"a {'list' if items else 'string'} would have more than {limit} "
                           f"{'items' if items else 'characters'}")


def _sized(value: Any) -> Any:
    if isinstance(value, str):
        _check_size(len(value))
    elif isinstance(value, (list, tuple)):
        _check_size(len(value), items=True)
    elif isinstance(value, int) and value.bit_length() > MAX_TEMPLATE_INT_BITS:
        raise _limit_error(f"a number would have more than {MAX_TEMPLATE_INT_BITS} bits")
    return value


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    hits = text.count(str(old)) if old else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    _check_size(len(text) + hits * max(0, len(str(new)) - len(str(old))))
    return text.replace(str(old), str(new), -1 if count is None else count)


def _join(value: Iterable[Any], separator: str = "", attribute: str | int | None = None) -> str:
    items = [str(item[attribute] if attribute is not None else item) for item in value]
    _check_size(sum(map(len, items)) + len(separator) * max(0, len(items) - 1))
    return str(separator).join(items)


def _environment(budget: _Budget) -> Any:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):
        """The immutable sandbox, with built-in values' attributes and operators bounded."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            for types, names in _SAFE_ATTRIBUTES:
                if isinstance(obj, types):
                    return attr in names
            return bool(super().is_safe_attribute(obj, attr, value))

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            budget.tick()
            if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
                if max(1, abs(left).bit_length() - 1) * right > MAX_TEMPLATE_INT_BITS and abs(left) > 1:
                    raise _limit_error(f"{left} ** {right} is too large")
            elif operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                        _check_size(len(seq) * max(0, n), items=not isinstance(seq, str))
                if isinstance(left, int) and isinstance(right, int) and \
                        left.bit_length() + right.bit_length() > MAX_TEMPLATE_INT_BITS:
                    raise _limit_error(f"a number would have more than {MAX_TEMPLATE_INT_BITS} bits")
            elif operator == "+" and isinstance(left, (str, list, tuple)) and \
                    isinstance(right, (str, list, tuple)):
                _check_size(len(left) + len(right), items=not isinstance(left, str))
            elif operator == "%" and isinstance(left, str):
                for match in _FORMAT_SPEC.finditer(left):
                    for number in match.groups():
                        if number == "*" or (number and int(number) > _MAX_FORMAT_WIDTH):
                            raise _limit_error(f"a %-format width or precision above "
                                               f"{_MAX_FORMAT_WIDTH} in {left[:40]!r}")
            return _sized(super().call_binop(context, operator, left, right))

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            budget.tick()
            return _sized(super().call(__context, __obj, *args, **kwargs))

        def getattr(self, obj: Any, attribute: str) -> Any:
            budget.tick()
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            budget.tick()
            return super().getitem(obj, argument)

        def wrap_str_format(self, value: Any) -> None:
            return None  # str.format is not on the allow-list: widths like {:>999999999}

    env = Sandbox(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in _SAFE_FILTERS}
    # pass_context keeps Jinja from folding these into constants when it compiles the
    # template: a constant piece of text inside a loop must be counted on every turn.
    env.filters.update({"replace": _replace, "join": _join,
                        _OUT: jinja2.pass_context(lambda _context, value: budget.emit(value)),
                        _SIZE: jinja2.pass_context(lambda _context, text: _sized(str(text)))})
    env.globals.update({_LOOP: budget.loop, _CONCAT: budget.concat})
    return env


def _guard(template: jinja_nodes.Template) -> jinja_nodes.Template:
    """Route every loop, ``~`` and piece of output of a parsed template through the budget."""
    from jinja2 import nodes
    from jinja2.visitor import NodeTransformer

    def call(name: str, args: list[Any], lineno: int) -> nodes.Call:
        return nodes.Call(nodes.Name(name, "load", lineno=lineno), args, [], None, None,
                          lineno=lineno)

    class Guard(NodeTransformer):
        def visit_For(self, node: nodes.For) -> nodes.Node:
            self.generic_visit(node)
            node.iter = call(_LOOP, [node.iter], node.lineno)
            return node

        def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
            self.generic_visit(node)
            return call(_CONCAT, list(node.nodes), node.lineno)

        def visit_Output(self, node: nodes.Output) -> nodes.Node:
            self.generic_visit(node)
            node.nodes = [nodes.Filter(nodes.Const(n.data, lineno=n.lineno)
                                       if isinstance(n, nodes.TemplateData) else n,
                                       _OUT, [], [], None, None, lineno=n.lineno)
                          for n in node.nodes if isinstance(n, nodes.Expr)]
            return node

        def visit_AssignBlock(self, node: nodes.AssignBlock) -> nodes.Node:
            self.generic_visit(node)
            node.filter = nodes.Filter(node.filter, _SIZE, [], [], None, None, lineno=node.lineno)
            return node

    guarded = Guard().visit(template)
    assert isinstance(guarded, nodes.Template)
    return guarded


def render_template(text: str, file: str, context: Mapping[str, Any]) -> str:
    """Render ``text`` with Jinja2 in a sandbox; a template error names the file and line.

    >>> render_template("margin: {{ var('m', 0.8) }}", "x.yaml", {"var": lambda n, d=None: d})
    'margin: 0.8'
    >>> render_template("x: {{ ''.__class__ }}", "x.yaml", {})
    Traceback (most recent call last):
    ...
    kpispec.errors.SpecError: x.yaml:1:1: template error: access to attribute '__class__' of 'str' ...
    """
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return text
    import jinja2

    budget = _Budget()
    env = _environment(budget)
    env.globals.update(context)
    pieces: list[str] = []
    try:
        template = _guard(env.parse(text))
        template.set_environment(env)
        size = 0
        for piece in env.from_string(template).generate():
            size += len(piece)
            if size > MAX_RENDERED_BYTES:
                raise _limit_error(f"templating produced more than {MAX_RENDERED_BYTES} characters")
            pieces.append(piece)
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(f"template syntax error: {exc.message}", Location(file, exc.lineno or 0, 1)) from None
    except SpecError:
        raise
    except RecursionError as exc:
        raise SpecError("template error: recursion or nesting is too deep",
                        Location(file, _template_line(exc), 1),
                        "Check the macros and {{ ... }} expressions in this file") from None
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError,
            AttributeError, MemoryError) as exc:
        raise SpecError(f"template error: {exc}", Location(file, _template_line(exc), 1),
                        "Check the {{ ... }} expressions in this file") from None
    except Exception as exc:  # a template function a plugin registered failed
        raise SpecError(f"template error: {type(exc).__name__}: {exc}",
                        Location(file, _template_line(exc), 1),
                        "Check the {{ ... }} expressions in this file") from None
    return "".join(pieces)


def _template_line(exc: BaseException) -> int:
    tb = exc.__traceback__
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _read(path: Path, name: str) -> str:
    """The text of a spec file, read no further than the size limit."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror or exc}", Location(name)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError(f"file is larger than {MAX_FILE_BYTES} bytes, the limit for spec files",
                        Location(name))
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise SpecError("not a text file (it contains NUL bytes)", Location(name, line, 1))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - raw.rfind(b"\n", 0, exc.start)
        raise SpecError("not UTF-8 text", Location(name, line, column),
                        "Save the file as UTF-8") from None


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
        except OSError as exc:
            raise SpecError(f"cannot read file: {exc.strerror or exc}", Location(name)) from None
        if size > MAX_FILE_BYTES:
            raise SpecError(f"file is {size} bytes; spec files are limited to {MAX_FILE_BYTES}",
                            Location(name))
        text = _read(p, name)
    elif len(text) > MAX_FILE_BYTES:
        raise SpecError(f"text is {len(text)} characters; spec files are limited to "
                        f"{MAX_FILE_BYTES}", Location(name))
    if context is not None:
        text = render_template(text, name, context)
    if _FastLoader is not None and not _NON_PRINTABLE.search(text):
        ok, document = _load_fast(_FastLoader, text, name)
        if ok:
            return document
    return _load_reference(text, name)


#: What PyYAML's reader refuses; such a file is read by the pure-Python loader only.
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _load_fast(loader_class: type, text: str, name: str) -> tuple[bool, Any]:
    """(True, the document) read through libyaml, or (False, None) on any problem at all:
    the caller then reads the file with the pure-Python loader, whose message is reported."""
    loader = loader_class(text, name)
    try:
        node = loader.get_single_node()
        if loader.too_big is not None:
            return False, None
        return True, (None if node is None else loader.construct_document(node))
    except Exception:  # any problem: the reference loader words it
        return False, None
    finally:
        loader.dispose()


def _load_reference(text: str, name: str) -> Any:
    """Compose, check and construct one document with the pure-Python loader, turning
    every problem into a located SpecError."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text, name)
        node = loader.get_single_node()
        if loader.too_big is not None:
            raise loader._error(f"YAML aliases expand this node to more than {MAX_NODES} nodes; "
                                "refusing to expand them", loader.too_big.start_mark,
                                "Write the data out, or use fewer nested aliases")
        return None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "<stream end>" in (exc.problem or ""):
            mark = exc.context_mark  # point at the unclosed bracket, not past the last line
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"invalid YAML: {problem}", Location(name, line, col)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise SpecError(f"invalid YAML: control character U+{character:04X} is not allowed",
                        Location(name, line, column), "Spec files are plain text") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", Location(name)) from None
    except RecursionError:
        raise SpecError("YAML nesting is too deep", Location(name)) from None
    finally:
        if loader is not None:
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
