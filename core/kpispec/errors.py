"""Every exception kpispec raises on purpose.

::

    KpispecError                      base; the CLI prints its message and exits 1 or 2
    ├── SpecError                     the user's input is wrong (exit 1); has a location
    │   ├── SpecErrors                several SpecErrors collected by validation
    │   ├── UnknownMetricError        also a KeyError
    │   └── QueryError                a query option (--by, --grain, --where…) is wrong
    ├── PluginError                   a plugin misbehaved; names the plugin and the hook
    ├── CompileError                  a valid spec could not be turned into SQL (exit 1)
    │   └── UnsupportedDialectFeature the target dialect lacks a construct the metric needs
    ├── ExecutionError                a source or sink failed (exit 2)
    └── InternalError                 a kpispec bug; asks the user to file an issue

Messages carry the values that matter and say what to do next; none of them
carries a stack trace (the CLI shows one only with ``--debug``) or a password:
:func:`mask_secrets` hides passwords in URLs and ``password=`` settings, and every
secret passed to :func:`register_secret` (source passwords), and the CLI runs
every message, warning and traceback through it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "CompileError",
    "ExecutionError",
    "InternalError",
    "KpispecError",
    "Location",
    "PluginError",
    "QueryError",
    "SpecError",
    "SpecErrors",
    "UnknownMetricError",
    "UnsupportedDialectFeature",
    "is_credential_name",
    "mask_credentials",
    "mask_secrets",
    "mask_url_parameters",
    "register_secret",
]


@dataclass(frozen=True)
class Location:
    """Where a spec node starts: file, 1-based line and column, and its JSON path."""

    file: str
    line: int = 0
    column: int = 0
    path: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.path}" if self.path else where


class KpispecError(Exception):
    """Base of every error kpispec raises on purpose."""

    exit_code = 1


class SpecError(KpispecError):
    """Raised when a spec file or project setting is wrong; it knows where.

    The message reads like compiler output:
    ``specs/revenue.yaml:14:7: metrics[2].denominator: unknown model 'ordr'. Did you mean 'orders'?``
    """

    def __init__(self, message: str, location: Location | None = None, hint: str = "") -> None:
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text.rstrip('.')}. {self.hint}"
        return f"{self.location}: {text}" if self.location else text

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location or Location("")
        return (loc.file, loc.line, loc.column, self.message)


class SpecErrors(SpecError):
    """Raised by validation with every problem it found, one per line, in file order."""

    def __init__(self, errors: Iterable[SpecError]) -> None:
        self.errors: Sequence[SpecError] = sorted(errors, key=SpecError.sort_key)
        count = len(self.errors)
        lines = [e.render() for e in self.errors]
        lines.append(f"{count} problem{'s' if count != 1 else ''} found.")
        KpispecError.__init__(self, "\n".join(lines))
        self.message = "\n".join(lines)
        self.location = None
        self.hint = ""

    def render(self) -> str:
        return self.message


class UnknownMetricError(SpecError, KeyError):
    """Raised when a query names a metric the project does not define."""

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return self.render()


class QueryError(SpecError):
    """Raised when a query option (metric list, --by, --grain, --where, --from/--to) is wrong."""


class PluginError(KpispecError):
    """Raised when a plugin fails to import, raises in a hook or registers something malformed."""

    def __init__(self, message: str, *, plugin: str, hook: str = "") -> None:
        self.plugin = plugin
        self.hook = hook
        where = f"plugin {plugin!r}" + (f" in hook {hook}" if hook else "")
        super().__init__(f"{where}: {message}")


class CompileError(KpispecError):
    """Raised when a valid spec cannot be compiled to SQL for the requested query."""


class UnsupportedDialectFeature(CompileError):
    """Raised when the target SQL dialect cannot express a construct a metric needs."""

    def __init__(self, *, metric: str, dialect: str, construct: str) -> None:
        self.metric = metric
        self.dialect = dialect
        self.construct = construct
        super().__init__(
            f"metric {metric!r} cannot be compiled for dialect {dialect!r}: {construct}. "
            "Choose another dialect or rewrite the metric without it."
        )


class ExecutionError(KpispecError):
    """Raised when a source fails to connect or execute, or a sink fails to write (exit 2)."""

    exit_code = 2


class InternalError(KpispecError):
    """Raised on a kpispec bug: something that valid input must never reach."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(
            f"internal error: {message}. This is a kpispec bug; please file an issue "
            "with the command you ran (rerun with --debug for the traceback)."
        )


# -- secrets in messages ---------------------------------------------------------------------

#: A password in a URL: ``scheme://user:PASSWORD@host`` (the last ``@`` before the path).
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:)[^\s/?#]*(?=@)")
#: ``password=…`` / ``pwd: …`` settings, as libpq connection strings and drivers write them.
_SETTING_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd)\s*[=:]\s*)(?!(?:YES|NO)\))"  # MySQL's "(using password: NO)"
    r"(?:'(?:[^'\\]|\\.)*'|\"[^\"]*\"|[^\s,;&)]+)",
    re.IGNORECASE)
#: Names of settings, URL query parameters and environment variables that hold a
#: credential: ``sslpassword``, ``MYSQL_PWD``, ``api_key``, ``auth_token``…
_CREDENTIAL = r"pass|pwd|secret|token|credential|api_?key|private_?key|access_?key"
_CREDENTIAL_NAME = re.compile(_CREDENTIAL, re.IGNORECASE)
#: ``name=value`` where the name holds a credential (``?sslpassword=…&``, ``auth_token=…``),
#: written without spaces as in a URL or a connection string (``token = 'x'`` in a SQL
#: snippet stays readable).
_SETTING_CREDENTIAL = re.compile(
    rf"(?P<head>\b[\w.\-]*(?:{_CREDENTIAL})[\w.\-]*=)"
    r"(?:'(?:[^'\\]|\\.)*'|\"[^\"]*\"|[^\s,;&)#'\"]+)",
    re.IGNORECASE)
#: Shorter secrets are hidden only where they stand as a password (URL, setting), not
#: anywhere in a text, so that a message stays readable.
MIN_SECRET_LENGTH = 3
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember ``value`` (a password) so that :func:`mask_secrets` hides it wherever it shows.

    Sources call it for the passwords they connect with; its percent-encoded
    spellings are hidden too.
    """
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        _secrets.update({value, quote(value, safe=""), quote(value)})


def is_credential_name(name: str) -> bool:
    """Whether a setting or URL query parameter named ``name`` holds a credential.

    >>> [is_credential_name(n) for n in ("sslpassword", "api_key", "sslmode", "schema")]
    [True, True, False, False]
    """
    return _CREDENTIAL_NAME.search(name) is not None


def mask_url_parameters(url: str) -> str:
    """``url`` with the value of every credential-named query parameter replaced by ``***``.

    >>> mask_url_parameters("postgresql://db/crm?sslpassword=k3y&sslmode=require")
    'postgresql://db/crm?sslpassword=***&sslmode=require'
    """
    head, mark, query = url.partition("?")
    if not mark:
        return url
    return head + mark + _SETTING_CREDENTIAL.sub(lambda m: f"{m.group('head')}***", query)


def mask_credentials(text: str) -> str:
    """``text`` with the credentials it spells out masked: a URL's password,
    ``password=…`` settings and credential-named parameters (not registered secrets).

    >>> mask_credentials("postgresql://me:pw@db/crm?sslmode=require host=db pwd=x")
    'postgresql://me:***@db/crm?sslmode=require host=db pwd=***'
    """
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}***", text)
    text = _SETTING_PASSWORD.sub(lambda m: f"{m.group('head')}***", text)
    return _SETTING_CREDENTIAL.sub(lambda m: f"{m.group('head')}***", text)


def mask_secrets(text: str) -> str:
    """``text`` with every password replaced by ``***``.

    >>> mask_secrets("cannot connect to postgresql://me:s3cr@t@db:5432/crm")
    'cannot connect to postgresql://me:***@db:5432/crm'
    >>> mask_secrets("connection string: host=db password='x y' user=me")
    'connection string: host=db password=*** user=me'
    >>> mask_secrets("postgresql://db/crm?sslpassword=k3y&sslmode=require")
    'postgresql://db/crm?sslpassword=***&sslmode=require'
    """
    if not text:
        return text
    text = mask_credentials(text)
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text
