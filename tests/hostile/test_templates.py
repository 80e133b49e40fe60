"""The template sandbox: no way out, bounded in memory, loops and time; env_var() by allow-list."""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import kpispec
import pytest
from kpispec.errors import SpecError
from kpispec.spec import loader
from kpispec.spec.loader import render_template

CONTEXT = {"var": lambda name, default=None: default}


def render(text: str) -> str:
    return render_template(text, "t.yaml", CONTEXT)


def refused(text: str) -> str:
    with pytest.raises(SpecError) as info:
        render(text)
    return str(info.value)


@pytest.mark.parametrize(("template", "message"), [
    ("{{ ''.__class__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
    ("{{ ''['__class__'] }}", "access to attribute '__class__' of 'str' object is unsafe"),
    ("{{ var.__globals__ }}", "access to attribute '__globals__' of 'function' object is unsafe"),
    ("{{ var.__code__.co_consts }}", "access to attribute '__code__' of 'function' object is unsafe"),
    ("{{ var | attr('__globals__') }}", "No filter named 'attr'"),
    ("{{ self._TemplateReference__context }}", "object is unsafe"),
    ("{{ cycler }}", "'cycler' is undefined"),
    ("{{ joiner }}", "'joiner' is undefined"),
    ("{{ namespace() }}", "'namespace' is undefined"),
    ("{{ lipsum() }}", "'lipsum' is undefined"),
    ("{{ range(3) }}", "'range' is undefined"),
    ("{{ dict(a=1) }}", "'dict' is undefined"),
    ("{% include 'x.yaml' %}", "no loader for this environment specified"),
    ("{% import 'x.yaml' as x %}", "no loader for this environment specified"),
    ("{% extends '/etc/passwd' %}", "no loader for this environment specified"),
    ("{{ [].append(1) }}", "access to attribute 'append' of 'list' object is unsafe"),
    ("{{ {}.update(a=1) }}", "access to attribute 'update' of 'dict' object is unsafe"),
    ("{{ '{0.__class__}'.format(1) }}", "access to attribute 'format' of 'str' object is unsafe"),
    ("{{ 'x'.center(10) }}", "access to attribute 'center' of 'str' object is unsafe"),
    ("{{ 'x'.zfill(10) }}", "access to attribute 'zfill' of 'str' object is unsafe"),
    ("{{ 'x'.join(['a']) }}", "access to attribute 'join' of 'str' object is unsafe"),
    ("{{ (1).to_bytes(10, 'big') }}", "access to attribute 'to_bytes' of 'int' object is unsafe"),
    ("{{ 'x' | center(10) }}", "No filter named 'center'"),
    ("{{ 'x' | format(1) }}", "No filter named 'format'"),
    ("{{ [1] | batch(10 ** 9, 0) | list }}", "No filter named 'batch'"),
    ("{{ 'x' | indent(10 ** 9) }}", "No filter named 'indent'"),
])
def test_no_way_out_of_the_sandbox(template: str, message: str) -> None:
    text = refused(template)
    assert text.startswith("t.yaml:1:1: template "), text
    assert message in text, text


@pytest.mark.parametrize(("template", "message"), [
    ("{{ 'x' * 10 ** 10 }}", "a string would have more than 10485760 characters"),
    ("{{ [0] * 10 ** 9 }}", "a list would have more than 100000 items"),
    ("{{ 9 ** (9 ** 9) }}", "9 ** 387420489 is too large"),
    ("{{ 10 ** 4000 }}", "10 ** 4000 is too large"),
    ("{% set a = 2 ** 9000 %}{{ a * a }}", "a number would have more than 10000 bits"),
    ("{% set a = 'x' * 6000000 %}{{ a ~ a }}", "a string would have more than 10485760 characters"),
    ("{% set a = 'x' * 6000000 %}{{ a + a }}", "a string would have more than 10485760 characters"),
    ("{% set a = ['x'] * 60000 %}{{ a + a }}", "a list would have more than 100000 items"),
    ("{{ '%999999999s' % 1 }}", "a %-format width or precision above 1000"),
    ("{{ '%.*f' % (9999999, 1) }}", "a %-format width or precision above 1000"),
    ("{{ ('x' * 1000000) | replace('', 'yyyyyyyyyyyy') }}", "more than 10485760 characters"),
    ("{{ ('x' * 1000000) | join('yyyyyyyyyyyy') }}", "more than 10485760 characters"),
    ("{% for i in 'x' * 200000 %}{% endfor %}", "loops ran more than 100000 iterations"),
    ("{% for a in 'x' * 1000 %}{% for b in 'x' * 1000 %}{% endfor %}{% endfor %}",
     "loops ran more than 100000 iterations"),
    ("{% set big = 'x' * 4000000 %}{% set y %}{% for i in 'abc' %}{{ big }}{% endfor %}{% endset %}",
     "the template produced more than 10485760 characters"),
    ("{% set big = 'x' * 4000000 %}{% macro m() %}{{ big }}{{ big }}{{ big }}{% endmacro %}{{ m() }}",
     "the template produced more than 10485760 characters"),
    ("{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}", "recursion or nesting is too deep"),
    # constant text inside a loop is counted on every turn (not folded away when compiled)
    ("{% set y %}{% for i in 'x' * 100000 %}" + "A" * 2_000_000 + "{% endfor %}{% endset %}",
     "the template produced more than 10485760 characters"),
    ("{% macro m() %}{% for i in 'x' * 100000 %}" + "A" * 2_000_000 + "{% endfor %}{% endmacro %}"
     "{{ m() }}", "the template produced more than 10485760 characters"),
    ("{% filter upper %}{% for i in 'x' * 100000 %}" + "A" * 2_000_000 + "{% endfor %}{% endfilter %}",
     "the template produced more than 10485760 characters"),
])
def test_everything_a_template_builds_is_bounded(template: str, message: str) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        text = refused(template)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message in text, text
    assert time.monotonic() - started < 5
    assert peak < 100 * 1024 * 1024, f"{peak} bytes"


def test_render_time_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_RENDER_SECONDS", 0.3)
    doubling = ("{% macro d(n) %}{% if n %}{{ d(n - 1) }}{{ d(n - 1) }}{% else %}x{% endif %}"
                "{% endmacro %}{{ d(40) }}")
    started = time.monotonic()
    text = refused(doubling)
    assert "rendering took more than 0.3 seconds" in text
    assert time.monotonic() - started < 3


def test_error_lines_point_at_the_template() -> None:
    text = refused("a: 1\nb: 2\nc: {{ ''.__class__ }}\n")
    assert text.startswith("t.yaml:3:1: template error: access to attribute '__class__'"), text


def test_ordinary_templates_still_work() -> None:
    text = render(
        "{% set regions = ['EMEA', 'NA'] %}"
        "a: {{ regions | join(', ') }}\n"
        "b: {{ 'north-america' | replace('-', '_') | upper }}\n"
        "c: {% for r in regions %}{{ loop.index }}{{ r | lower }}{% if not loop.last %},{% endif %}{% endfor %}\n"
        "d: {{ 'x' ~ 2 ** 10 ~ ('%s-%02d' % ('q', 3)) }}\n"
        "{% set block | upper %}stage = 'won'{% endset %}e: \"{{ block }}\"\n"
        "{% macro eq(c, v) %}{{ c }} = '{{ v }}'{% endmacro %}f: \"{{ eq('stage', 'won') }}\"\n"
        "g: {{ var('missing', 0.8) }} {{ {'a': 1}.get('a') }} {{ 'A,B'.split(',') | length }}\n"
        "h: {{ 'x' * 3 }} {{ [1, 2] + [3] }} {{ 7 // 2 }} {{ 7 % 2 }} {{ 'won' in 'won,lost' }}\n")
    assert text.splitlines() == [
        "a: EMEA, NA",
        "b: NORTH_AMERICA",
        "c: 1emea,2na",
        "d: x1024q-03",
        "e: \"STAGE = 'WON'\"",
        "f: \"stage = 'won'\"",
        "g: 0.8 1 2",
        "h: xxx [1, 2, 3] 3 1 True",
    ]


def test_a_failing_plugin_function_is_a_spec_error() -> None:
    def broken() -> str:
        raise RuntimeError("backend down")

    with pytest.raises(SpecError, match=re.escape("t.yaml:2:1: template error: RuntimeError: "
                                                  "backend down")):
        render_template("a: 1\nb: {{ broken() }}\n", "t.yaml", {"broken": broken})


def test_text_without_template_syntax_is_left_alone() -> None:
    assert render("filter: \"a = '{x}'\"\n") == "filter: \"a = '{x}'\"\n"


# -- env_var() ------------------------------------------------------------------------------

SPEC = """\
models:
  - name: deals
    table: {table}
    primary_key: deal_id
    time: created_at
metrics:
  - name: n
    type: simple
    measure: {{model: deals, agg: count}}
"""


@pytest.fixture
def project_with(tmp_path: Path) -> Callable[[str, str], Path]:
    def make(table: str, settings: str) -> Path:
        root = tmp_path / "p"
        root.mkdir(exist_ok=True)
        (root / "m.yaml").write_text(SPEC.format(table=table), encoding="utf-8")
        (root / "kpispec.yaml").write_text(settings, encoding="utf-8")
        return root
    return make


def _table(root: Path) -> str:
    return kpispec.load_project(root).models["deals"].relation.sql()


def test_env_var_reads_listed_names_and_patterns(project_with: Callable[[str, str], Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPISPEC_SCHEMA", "analytics")
    monkeypatch.setenv("DEALS_TABLE", "deals_v2")
    root = project_with("{{ env_var('KPISPEC_SCHEMA') }}.{{ env_var('DEALS_TABLE') }}",
                        "env_vars: [KPISPEC_*, DEALS_TABLE]\n")
    assert _table(root) == "analytics.deals_v2"


def test_env_var_default_when_unset(project_with: Callable[[str, str], Path],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPISPEC_SCHEMA", raising=False)
    root = project_with("{{ env_var('KPISPEC_SCHEMA', 'crm') }}.deals", "env_vars: [KPISPEC_SCHEMA]\n")
    assert _table(root) == "crm.deals"
    root = project_with("{{ env_var('KPISPEC_SCHEMA') }}.deals", "env_vars: [KPISPEC_SCHEMA]\n")
    with pytest.raises(SpecError, match=re.escape("m.yaml:3:1: template error: environment variable "
                                                  "'KPISPEC_SCHEMA' is not set: set it, or give env_var")):
        kpispec.load_project(root)


@pytest.mark.parametrize(("name", "settings", "why"), [
    ("HOME", "name: x\n", "add 'HOME' to 'env_vars:' in kpispec.yaml"),
    ("HOME", "env_vars: [KPISPEC_*]\n", "add 'HOME' to 'env_vars:' in kpispec.yaml"),
    ("AWS_SECRET_ACCESS_KEY", "env_vars: ['*']\n", "a pattern does not match it"),
    ("PGPASSWORD", "env_vars: ['PG*']\n", "a pattern does not match it"),
    ("GITHUB_TOKEN", "env_vars: ['GITHUB_*']\n", "a pattern does not match it"),
    ("SNOWFLAKE_PRIVATE_KEY_PATH", "env_vars: ['SNOWFLAKE_*']\n", "a pattern does not match it"),
])
def test_env_var_refuses_what_is_not_listed(name: str, settings: str, why: str,
                                            project_with: Callable[[str, str], Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, "deals")
    root = project_with(f"{{{{ env_var('{name}', 'fallback') }}}}", settings)
    with pytest.raises(SpecError) as info:
        kpispec.load_project(root)
    message = str(info.value)
    assert f"m.yaml:3:1: template error: env_var('{name}') is not allowed" in message
    assert why in message
    assert "deals" not in message.replace("'deals'", "")  # the value never shows


def test_a_secret_listed_by_its_exact_name_is_readable(project_with: Callable[[str, str], Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALS_TOKEN", "deals")
    root = project_with("{{ env_var('DEALS_TOKEN') }}", "env_vars: [DEALS_TOKEN]\n")
    assert _table(root) == "deals"


def test_env_vars_setting_is_checked(project_with: Callable[[str, str], Path]) -> None:
    root = project_with("deals", "env_vars: ['A B']\n")
    with pytest.raises(SpecError, match=re.escape("kpispec.yaml:1:12: env_vars[0]: 'A B' is not an "
                                                  "environment variable name or pattern")):
        kpispec.load_project(root)
    root = project_with("deals", "env_vars: KPISPEC_*\n")
    with pytest.raises(SpecError, match=re.escape("kpispec.yaml:1:11: env_vars: expected an array")):
        kpispec.load_project(root)


def test_the_environment_is_not_otherwise_reachable(project_with: Callable[[str, str], Path]) -> None:
    for template in ("{{ environ }}", "{{ os }}", "{{ env }}", "{{ getenv('HOME') }}",
                     "{{ env_var.__globals__ }}"):
        root = project_with(template, "env_vars: ['*']\n")
        with pytest.raises(SpecError, match=re.escape("m.yaml:3:1: template error: ")):
            kpispec.load_project(root)
