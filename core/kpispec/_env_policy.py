"""Which environment variables spec templates may read, and what of them may be kept.

``env_var(NAME)`` in a spec file reads only what ``env_vars:`` in kpispec.yaml
allows: an exact name, or a glob pattern (``KPISPEC_*``). A pattern never
matches a name that looks like it holds a credential — ``MYSQL_PWD``,
``DATABASE_URL``, ``SNOWFLAKE_DSN``, ``PG_CONN``, ``API_TOKEN`` — so
``env_vars: ["MYSQL_*", "DATABASE_*", "*_DSN"]`` does not hand the project's
authors the passwords in the environment; such a name is readable only when
listed exactly.

A value read that still holds a credential — a URL with a password
(``postgresql://me:pw@db/crm``), or ``?sslpassword=…`` — comes back with the
credential replaced by ``***``: nothing a spec says (a description, a label)
ever carries a password into a report, a docs site or the project cache. The
value of a credential-named variable is registered for masking
(:func:`kpispec.errors.register_secret`), so a message never shows it either.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

__all__ = ["env_var_allowed", "looks_secret", "safe_value"]

#: Parts of an environment variable's name that mark it as holding a credential, or a
#: connection string that may hold one (URL, URI, DSN, CONN…).
_SECRET_PARTS = ("PASS", "PWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE", "AUTH",
                 "URL", "URI", "DSN", "CONN")


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name looks like it holds a credential.

    >>> [looks_secret(n) for n in ("MYSQL_PWD", "DATABASE_URL", "CRM_DSN", "KPISPEC_SCHEMA")]
    [True, True, True, False]
    """
    upper = name.upper()
    return any(part in upper for part in _SECRET_PARTS)


def env_var_allowed(name: str, allowed: Sequence[str]) -> bool:
    """Whether ``env_var(name)`` may read ``name`` under the ``env_vars`` setting ``allowed``.

    >>> env_var_allowed("KPISPEC_SCHEMA", ["KPISPEC_*"]), env_var_allowed("HOME", ["KPISPEC_*"])
    (True, False)
    >>> env_var_allowed("KPISPEC_TOKEN", ["KPISPEC_*"]), env_var_allowed("KPISPEC_TOKEN", ["KPISPEC_TOKEN"])
    (False, True)
    >>> env_var_allowed("DATABASE_URL", ["DATABASE_*"]), env_var_allowed("MYSQL_PWD", ["MYSQL_*"])
    (False, False)
    """
    if name in allowed:
        return True
    if looks_secret(name):
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in allowed
               if any(c in pattern for c in "*?["))


def safe_value(name: str, value: str) -> str:
    """What ``env_var(name)`` gives a template: ``value`` with the credentials it spells out
    masked (a URL's password, ``password=``, ``?sslpassword=``).

    The value of a credential-named variable (listed exactly, so meant to be read) is
    given as it is, and registered for masking in messages.

    >>> safe_value("WAREHOUSE", "postgresql://me:s3cret@db:5432/crm?sslmode=require")
    'postgresql://me:***@db:5432/crm?sslmode=require'
    >>> safe_value("REGION", "EMEA"), safe_value("PG_OPTIONS", "host=db password=s3cret")
    ('EMEA', 'host=db password=***')
    """
    from kpispec.errors import mask_credentials, register_secret

    if looks_secret(name):
        register_secret(value)
    return mask_credentials(value)
