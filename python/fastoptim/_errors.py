"""Errors about a value the caller passed, marked as such.

:class:`UsageTypeError` and :class:`UsageValueError` are a ``TypeError`` and
a ``ValueError`` like any other (catch those); the shared base
:class:`UsageError` lets the ``fastoptim`` command print a refused argument
as one line while a ``TypeError`` or ``ValueError`` from a bug inside an
experiment still shows its traceback.
"""

from __future__ import annotations

__all__ = ["UsageError", "UsageTypeError", "UsageValueError"]


class UsageError(Exception):
    """Base of the errors that name an argument the caller got wrong."""


class UsageTypeError(UsageError, TypeError):
    """An argument of the wrong kind (a ``TypeError``)."""


class UsageValueError(UsageError, ValueError):
    """An argument of the right kind out of its range (a ``ValueError``)."""
