"""The ``kpispec`` command: a thin click layer over the Python API.

It parses options, calls :mod:`kpispec.project`, and turns errors into one
message and an exit code: 0 ok, 1 the user's input is wrong, 2 a source or
sink failed. A traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from kpispec._cli_options import (
    metrics_argument,
    path_argument,
    path_option,
    project_path,
    query_options,
    var_option,
)
from kpispec.errors import InternalError, KpispecError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["main"]


def _fail(message: str, code: int) -> None:
    from kpispec.errors import mask_secrets

    message = mask_secrets(message)
    click.echo(f"error: {message}" if "\n" not in message else message, err=True)
    sys.exit(code)


def _echo_err(text: str) -> None:
    """A warning or note on standard error, passwords masked."""
    from kpispec.errors import mask_secrets

    click.echo(mask_secrets(text), err=True)


def _debug_fail(code: int) -> None:
    """--debug: the traceback of the exception being handled, passwords masked, then exit."""
    import traceback

    from kpispec.errors import mask_secrets

    click.echo(mask_secrets(traceback.format_exc()).rstrip("\n"), err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Run a command, turning kpispec errors into a message and an exit code.

    Ctrl-C (KeyboardInterrupt) exits 130 with ``interrupted``, SIGTERM during a run
    143 with ``terminated``; the query was cancelled and no sink wrote anything.
    """
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except KpispecError as exc:
            if debug:
                _debug_fail(exc.exit_code)
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt as exc:
            if exc.args == (_TERMINATED,):
                _fail(_TERMINATED, 143)
            _fail("interrupted", 130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            if debug:
                _debug_fail(2)
            _fail(str(InternalError(f"{type(exc).__name__}: {exc}")), 2)
    return wrapper  # type: ignore[return-value]


_TERMINATED = "terminated"


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM during a run: stop like Ctrl-C (the query is cancelled, sinks discard)."""
    raise KeyboardInterrupt(_TERMINATED)


# Tells the sources' Ctrl-C watcher that this handler interrupts, so queries are cancelled.
_on_sigterm.cancels_queries = True  # type: ignore[attr-defined]


class _Group(click.Group):
    """A group whose usage errors (bad option, missing argument) exit 1, not click's 2.

    kpispec's exit codes: 0 ok, 1 the user's input is wrong, 2 a source or sink failed.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            _show_masked(exc)
            sys.exit(1)
        except click.ClickException as exc:
            _show_masked(exc)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:  # Ctrl-C outside a command (loading plugins…)
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Group,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="kpispec")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option("--no-plugin", "no_plugin", multiple=True, metavar="NAME",
              help="Do not load the plugin NAME (repeatable).")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Load the project from its files, ignoring the project cache "
                   "(also KPISPEC_NO_CACHE=1).")
def main(debug: bool, no_plugin: Sequence[str], no_cache: bool) -> None:
    """kpispec: CRM metrics in YAML, compiled to SQL for any warehouse.

    Metrics are validated against a JSON Schema, compiled through sqlglot and
    run on an embedded DuckDB by default or on your own warehouse.
    """
    if no_plugin:
        from kpispec.plugins import ESSENTIAL_PLUGINS, reset

        essential = sorted(set(no_plugin) & ESSENTIAL_PLUGINS)
        if essential:
            raise click.UsageError(f"--no-plugin {essential[0]}: kpispec cannot work without it")
        blocked = {n for n in os.environ.get("KPISPEC_BLOCK_PLUGINS", "").split(",") if n}
        os.environ["KPISPEC_BLOCK_PLUGINS"] = ",".join(sorted(blocked | set(no_plugin)))
        reset()


def _show_masked(exc: click.ClickException) -> None:
    """Print a click error (usage, option hint and message) with every known secret masked:
    an option's value quoted back may hold a password."""
    import io

    from kpispec.errors import mask_secrets

    shown = io.StringIO()
    exc.show(file=shown)
    click.echo(mask_secrets(shown.getvalue()), err=True, nl=False)


def _warn_plugins() -> None:
    from kpispec.plugins import get_registry

    for problem in get_registry().problems:
        _echo_err(f"warning: {problem}")


def _project(path: str, variables: Sequence[str] = ()) -> Any:
    from kpispec.project import load_project

    values: dict[str, Any] = {}
    for item in variables:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--var")
        import yaml

        values[name] = yaml.safe_load(raw) if raw else ""
    _warn_plugins()
    no_cache = click.get_current_context().find_root().params.get("no_cache", False)
    project = load_project(path, vars=values, cache=not no_cache)
    pack_notes = [w for w in project.warnings if w.startswith("pack ")]
    if pack_notes and click.get_current_context().info_name == "validate":
        for note in pack_notes:
            click.echo(f"warning: {note}", err=True)
    elif pack_notes:
        click.echo(f"warning: {len(pack_notes)} pack item(s) left out because they do not fit "
                   "this project; 'kpispec validate' lists them", err=True)
    return project


@main.command()
@path_argument
@path_option
@click.option("--source", "-s", metavar="URL",
              help="Also check every model's table and columns on this source's catalog.")
@var_option
@handle_errors
def validate(path_arg: str | None, path: str, source: str | None,
             variables: Sequence[str]) -> None:
    """Check a project: schema, names, references, joins and SQL snippets.

    Every problem is reported as file:line:col: path: message. With --source,
    the tables and columns the models name are looked up on that source too.
    The project is -p PATH (or PATH), default the current directory.
    """
    from kpispec.errors import SpecErrors

    project = _project(project_path(path, path_arg), variables)
    if source:
        errors, warnings = project.check_source(source)
        for warning in warnings:
            _echo_err(f"warning: {warning}")
        if errors:
            raise SpecErrors(errors)
    from kpispec.errors import mask_secrets

    checked = f", checked on {mask_secrets(source)}" if source else ""
    click.echo(f"ok: {len(project.models)} models, {len(project.metrics)} metrics "
               f"in {len(project.files)} files{checked}")


@main.command("list")
@path_argument
@path_option
@click.option("--lang", default="en", show_default=True, help="Label language (en, ro, pl, it, zh, ru…).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON instead of a table (with each metric's dimensions).")
@click.option("--origin", "origin_only", metavar="NAME",
              help="Only the metrics from NAME: 'project' (your own specs) or a pack (crm).")
@var_option
@handle_errors
def list_(path_arg: str | None, path: str, lang: str, as_json: bool, origin_only: str | None,
          variables: Sequence[str]) -> None:
    """List metrics with their type, label, models and origin.

    The project is -p PATH (or PATH), default the current directory.
    """
    project = _project(project_path(path, path_arg), variables)
    rows = project.list_metrics(lang=lang, origin=origin_only, dimensions=as_json)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("name", "type", "label", "models", "origin"):
        # Names are what people type: never cut them short; the rest may wrap.
        table.add_column(column, no_wrap=column == "name", overflow="fold")
    for row in rows:
        table.add_row(row["name"], row["type"], row["label"], row["models"], row["origin"])
    Console(soft_wrap=True).print(table)


@main.command()
@metrics_argument
@click.option("--lang", default="en", show_default=True, help="Label language.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@path_option
@var_option
@handle_errors
def dimensions(metrics: Sequence[str], lang: str, as_json: bool, path: str,
               variables: Sequence[str]) -> None:
    """List what each of METRICS can be grouped by (--by), and the model each comes from.

    A joined model's dimension is written model.dim where the plain name is
    ambiguous or not reached from every model the metric reads.
    """
    from kpispec._dimensions import print_dimensions

    print_dimensions(_project(path, variables), list(metrics), lang=lang, as_json=as_json)


@main.command("compile")
@metrics_argument
@click.option("--dialect", "-d", help="SQL dialect to write (default: the project's dialect).")
@query_options
@handle_errors
def compile_(metrics: Sequence[str], dialect: str | None, path: str, variables: Sequence[str],
             **options: Any) -> None:
    """Print the SQL that computes METRICS, in the chosen dialect."""
    project = _project(path, variables)
    compiled = project.compile(list(metrics), dialect=dialect, **options)
    for note in compiled.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(compiled.sql + ";")


@main.command()
@metrics_argument
@click.option("--all", "all_metrics", is_flag=True, help="Run every metric of the project.")
@click.option("--source", "-s", metavar="URL",
              help="Where to run: duckdb:///file.duckdb (default: kpispec.yaml's source).")
@click.option("--sink", "sinks", multiple=True, metavar="URL|FILE",
              help="Where results go (repeatable): table (default), out.csv, out.json, "
                   "out.jsonl, out.parquet, out.xlsx, report.html, out.prom, csv:-, "
                   "postgresql://…#schema.table (see docs/sinks.md).")
@click.option("--lang", default="en", show_default=True,
              help="Label language for the table, report and spreadsheet sinks.")
@click.option("--currency", metavar="SYMBOL",
              help="Symbol shown with currency values: $, €, zł… (default: kpispec.yaml's "
                   "currency, else none).")
@click.option("--progress/--no-progress", "progress", default=None,
              help="Show compiling, the query and rows written on standard error (default: "
                   "only when it is a terminal).")
@click.option("--csv-safe/--no-csv-safe", "csv_safe", default=True, show_default=True,
              help="Write CSV text cells starting with =, +, -, @, tab or CR with a leading ' "
                   "so spreadsheets show them instead of running them as formulas.")
@click.option("--timeout", type=float, metavar="SECONDS", help="Cancel the query after this long.")
@query_options
@handle_errors
def run(metrics: Sequence[str], all_metrics: bool, source: str | None, sinks: Sequence[str],
        lang: str, currency: str | None, progress: bool | None, csv_safe: bool,
        timeout: float | None, path: str, variables: Sequence[str], **options: Any) -> None:
    """Run METRICS on a source and write the result to each sink."""
    from kpispec.output import write_result

    project = _project(path, variables)
    names = sorted(project.metrics) if all_metrics else list(metrics)
    if all_metrics and metrics:
        raise click.UsageError("give metric names or --all, not both")
    if not source and not project.settings.source:
        raise click.UsageError("--source is required (or set 'source:' in kpispec.yaml), "
                               "e.g. --source duckdb:///crm.duckdb")
    import signal
    import threading

    # SIGTERM (a scheduler stopping the job) stops the run like Ctrl-C: the query is
    # cancelled on the server and no sink leaves a partial file behind.
    catch_term = (threading.current_thread() is threading.main_thread()
                  and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
    if catch_term:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        write_result(project, names, source=source, sinks=list(sinks) or ["table"], lang=lang,
                     timeout=timeout, options=options, currency=currency, progress=progress,
                     csv_safe=csv_safe)
    finally:
        if catch_term:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


@main.command()
@click.option("--rows", default=5_000, show_default=True, type=click.IntRange(10, 50_000_000),
              help="Number of deals; every other table scales with it.")
@click.option("--out", default="kpispec-demo.duckdb", show_default=True, type=click.Path(),
              help="The DuckDB file to write.")
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed.")
@handle_errors
def demo(rows: int, out: str, seed: int) -> None:
    """Write a demo CRM warehouse to DuckDB and compute a handful of metrics on it."""
    from kpispec._demo_command import run_demo

    run_demo(rows=rows, out=Path(out), seed=seed)


@main.command()
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: per plugin its name, version, distribution, module, status, "
                   "errors, hooks and what it registered.")
@handle_errors
def plugins(as_json: bool) -> None:
    """List installed plugins, what each registered, and which are broken.

    A broken plugin (it failed to import, a hook raised, it registered something
    malformed or a name another plugin registered too) is listed as broken with
    one message saying what to do; kpispec works on without it. Blocked plugins
    (--no-plugin NAME, KPISPEC_BLOCK_PLUGINS, KPISPEC_LOAD_PLUGINS) are listed too.
    """
    from kpispec._plugin_probe import probed_plugin_infos
    from kpispec.errors import mask_secrets
    from kpispec.plugins import environment_problems

    infos = probed_plugin_infos()
    for problem in environment_problems():
        _echo_err(f"warning: {problem}")
    if as_json:
        click.echo(mask_secrets(json.dumps([i.as_dict() for i in infos], indent=2)))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("plugin", "version", "package", "status", "registered"):
        table.add_column(column, no_wrap=column in ("plugin", "version", "status"))
    for info in infos:
        registered = [f"{kind}: {', '.join(sorted(names))}"
                      for kind, names in sorted(info.registered.items())]
        registered += [f"hook: {hook}" for hook in info.hooks if not hook.startswith("register_")]
        table.add_row(info.name, info.version, info.distribution, info.status, "; ".join(registered))
    # Piped output is never wrapped, so scripts and tests can read whole rows.
    Console(soft_wrap=True, width=None if sys.stdout.isatty() else 100_000).print(table)
    # A name two plugins registered is one problem, shown by both plugins' rows.
    messages = list(dict.fromkeys(error for info in infos for error in info.errors))
    if messages:
        click.echo(f"\n{len(messages)} problem{'s' if len(messages) != 1 else ''}:")
        for message in messages:
            click.echo(f"- {mask_secrets(message)}")


@main.command("new-plugin")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Directory to create the package in (default: ./kpispec-NAME).")
@click.option("--author", default="", help="Author name written into pyproject.toml.")
@handle_errors
def new_plugin(name: str, directory: str | None, author: str) -> None:
    """Create a plugin package NAME that passes its own tests as created.

    It holds pyproject.toml declaring the kpispec entry point NAME, a hook module
    kpispec_NAME contributing a NAME_difference metric type, tests written with
    kpispec.testing, and a README. Then: cd into it, python -m pip install -e ".[test]",
    python -m pytest, and kpispec plugins lists it.
    """
    from kpispec._scaffold import create_plugin

    written = create_plugin(name, Path(directory) if directory else None, author=author)
    root = written[0].parent
    click.echo(f"created {root}:")
    for file in written:
        click.echo(f"  {file.relative_to(root)}")
    click.echo(f"next: cd {root} && python -m pip install -e \".[test]\" && python -m pytest")


@main.command()
@click.option("--settings", "for_settings", is_flag=True,
              help="Print the schema of kpispec.yaml instead of spec files.")
@handle_errors
def schema(for_settings: bool) -> None:
    """Print the JSON Schema of spec files (installed metric types included).

    Save it and point your editor at it:
    kpispec schema > kpispec.schema.json, then start a spec file with
    '# yaml-language-server: $schema=kpispec.schema.json'.
    """
    from kpispec.project import published_schema

    document = published_schema()
    if for_settings:
        settings = dict(document["$defs"]["settings"])
        settings["$schema"] = document["$schema"]
        document = settings
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
