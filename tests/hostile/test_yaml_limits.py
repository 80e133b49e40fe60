"""YAML loading is safe and bounded: quick, small, one message with file:line:col."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from kpispec.errors import SpecError
from kpispec.spec import loader
from kpispec.spec.loader import MAX_DEPTH, MAX_NODES, load_yaml


def refused(text: str | bytes, tmp_path: Path | None = None) -> tuple[str, float, int]:
    """The message, the seconds it took and the peak memory it used."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(SpecError) as info:
            if isinstance(text, bytes):
                assert tmp_path is not None
                path = tmp_path / "f.yaml"
                path.write_bytes(text)
                load_yaml(path, "f.yaml")
            else:
                load_yaml("f.yaml", text=text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(info.value), time.monotonic() - started, peak


def _bomb(fan_out: int, levels: int) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * fan_out) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan_out) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("fan_out", "levels", "line"), [(9, 9, 7), (3, 66, 13), (2, 100, 19)])
def test_alias_bombs_are_refused_fast_and_small(fan_out: int, levels: int, line: int) -> None:
    """Few aliases can still expand to 3**66 nodes: the expanded size is what is bounded."""
    message, seconds, peak = refused(_bomb(fan_out, levels))
    assert message.startswith(f"f.yaml:{line}:"), message
    assert f"YAML aliases expand this node to more than {MAX_NODES} nodes" in message
    assert seconds < 2 and peak < 20 * 1024 * 1024, (seconds, peak)


def test_recursive_alias_is_refused() -> None:
    message, _, _ = refused("a: &x {b: *x}\n")
    assert message == ("f.yaml:1:11: YAML alias *x refers to a node that contains it. "
                       "Recursive aliases are not allowed")


@pytest.mark.parametrize("text", [
    "x: " + "[" * 1_000_000,
    "x: " + "{a: " * 300_000,
    "x: " + "[a, " * 300_000,
    "".join("  " * i + "k:\n" for i in range(1000)),
    "".join("- " * 1000 + "x\n"),
])
def test_deep_nesting_is_refused_fast(text: str) -> None:
    message, seconds, peak = refused(text)
    assert f"YAML nesting is deeper than {MAX_DEPTH} levels" in message, message
    assert message.startswith("f.yaml:1:") or message.startswith(f"f.yaml:{MAX_DEPTH}:"), message
    assert seconds < 2 and peak < 50 * 1024 * 1024, (seconds, peak)


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 1  # the document's own mapping is one level
    assert load_yaml("f.yaml", text="x: " + "[" * depth + "]" * depth) is not None


@pytest.mark.parametrize(("text", "tag", "column"), [
    ("a: !!python/object/apply:os.system ['true']\n", "!!python/object/apply:os.system", 4),
    ("a: !!python/object/new:subprocess.Popen [['id']]\n", "!!python/object/new:subprocess.Popen", 4),
    ("a: !!python/name:os.system\n", "!!python/name:os.system", 4),
    ("a: !!python/module:os\n", "!!python/module:os", 4),
    ("a: !!binary aGk=\n", "!!binary", 4),
    ("a: !!set {x}\n", "!!set", 4),
    ("a: !!omap [{x: 1}]\n", "!!omap", 4),
    ("a: !!timestamp 2024-01-01\n", "!!timestamp", 4),
    ("- !Ref x\n", "!Ref", 3),
    ("a: !<tag:example.com,2000:x> y\n", "tag:example.com,2000:x", 4),
])
def test_tags_that_build_objects_are_refused(text: str, tag: str, column: int) -> None:
    message, _, _ = refused(text)
    assert message.startswith(f"f.yaml:1:{column}: invalid YAML: tag {tag!r} is not allowed"), message


def test_core_tags_and_plain_data_load() -> None:
    data = load_yaml("f.yaml", text="a: !!str 1\nb: !!int '2'\nc: !!float 1\nd: !!bool true\n"
                                    "e: !!null ''\nbase: &b {x: 1}\nm: {<<: *b, y: 2}\nl: [*b, *b]\n")
    assert data == {"a": "1", "b": 2, "c": 1.0, "d": True, "e": None, "base": {"x": 1},
                    "m": {"x": 1, "y": 2}, "l": [{"x": 1}, {"x": 1}]}


@pytest.mark.parametrize(("content", "message"), [
    (b"\x00\x01\x02metrics", "f.yaml:1:1: not a text file (it contains NUL bytes)"),
    (b"metrics: []\n\xff\xfe junk", "f.yaml:2:1: not UTF-8 text. Save the file as UTF-8"),
    (b"metrics: []\nx: a\x07b\n", "f.yaml:2:5: invalid YAML: control character U+0007 is not allowed"),
    (b"metrics: []\n\x1b[31mred\n", "f.yaml:2:1: invalid YAML: control character U+001B is not allowed"),
])
def test_binary_junk_is_refused(content: bytes, message: str, tmp_path: Path) -> None:
    text, _, _ = refused(content, tmp_path)
    assert text.startswith(message), text


def test_huge_files_are_refused_without_reading_them(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    with path.open("wb") as fh:
        fh.truncate(2 * 1024 ** 3)  # a sparse 2 GiB file
    started = time.monotonic()
    with pytest.raises(SpecError, match=r"^f.yaml: file is 2147483648 bytes; spec files are limited"):
        load_yaml(path, "f.yaml")
    assert time.monotonic() - started < 1


def test_a_file_that_grows_while_read_is_cut_at_the_limit(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"#" * 2000)
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 1000)
    with pytest.raises(SpecError, match="file is 2000 bytes"):
        load_yaml(path, "f.yaml")
    with pytest.raises(SpecError, match="larger than 1000 bytes"):
        loader._read(path, "f.yaml")


def test_alias_count_is_limited() -> None:
    message, _, _ = refused("a: &a 1\nb: [" + ", ".join(["*a"] * 300) + "]\n")
    assert "more than 200 YAML aliases; refusing to expand them" in message
    assert message.startswith("f.yaml:2:")
