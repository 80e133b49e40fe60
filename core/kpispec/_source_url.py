"""``--source`` URLs: parsing one (SQLAlchemy convention), and the source plugin for its scheme.

The password and every credential-named query parameter of a URL are registered as
secrets as soon as it is parsed, so no message or printed URL shows them.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

from kpispec.errors import QueryError
from kpispec.extensions import SourceType, SourceURL
from kpispec.spec.schema import suggest

__all__ = ["parse_source_url", "source_type"]


def parse_source_url(text: str) -> SourceURL:
    """Parse a ``--source`` URL (SQLAlchemy convention).

    >>> parse_source_url("duckdb:///crm.duckdb").database
    'crm.duckdb'
    >>> str(parse_source_url("postgresql://me:secret@db:5432/crm"))
    'postgresql://me:***@db:5432/crm'
    """
    from kpispec.errors import is_credential_name, mask_secrets, register_secret

    if "://" not in text:
        raise QueryError(f"--source {mask_secrets(text)!r} is not a URL",
                         hint="Write e.g. duckdb:///path/to/file.duckdb or postgresql://user@host/db")
    try:
        parts = urlsplit(text)
    except ValueError:  # spark://local[4]: brackets that are not an IPv6 literal
        parts = urlsplit(text.replace("[", "%5B").replace("]", "%5D"))
    scheme = parts.scheme.lower().split("+", 1)[0]
    path = parts.path.removeprefix("/")
    host: str | None
    if parts.password:
        register_secret(unquote(parts.password))
        register_secret(parts.password)
    for name, value in parse_qsl(parts.query):  # ?sslpassword=…: masked wherever it shows
        if is_credential_name(name):
            register_secret(value)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise QueryError(f"--source has an invalid port: {mask_secrets(text)!r}") from None
    if host and "%5B" in host.upper():
        host, port = unquote(parts.netloc.rpartition("@")[2]), None
    return SourceURL(raw=text, scheme=scheme,
                     username=unquote(parts.username) if parts.username else None,
                     password=unquote(parts.password) if parts.password is not None else None,
                     host=host, port=port, database=unquote(path),
                     query=dict(parse_qsl(parts.query)))


def source_type(url: SourceURL) -> SourceType:
    """The source plugin that handles ``url``'s scheme.

    Raises:
        QueryError: no installed source plugin handles it (with the installed schemes).
    """
    from kpispec.plugins import get_registry

    registry = get_registry()
    source = registry.source_for_scheme(url.scheme)
    if source is None:
        schemes = sorted({s for r in registry.sources.values() for s in r.item.schemes})
        raise QueryError(f"no source plugin handles {url.scheme!r} URLs ({url})",
                         hint=suggest(url.scheme, schemes) or
                         f"Installed schemes: {', '.join(schemes) or 'none'}")
    return source
