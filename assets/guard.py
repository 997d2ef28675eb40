"""Keep 個人番号 out of what Dagster stores when a step fails unexpectedly.

Dagster records a failed step's exception text (and the text of its causes) in the event
log, the compute logs and the console. tenken's own messages never carry a 個人番号, but an
unexpected error from polars or pandera quotes the values it failed on
(``conversion … failed … values: ["123456789018"]``). ``masked_errors`` wraps an asset or
check body: such an error leaves it with every 12-digit run masked, in its own text and in
every cause, and keeps its traceback so the fault can still be found.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import dagster as dg

from pipelines.errors import TenkenInputError
from pipelines.privacy import holds_twelve_digits, scrub

F = TypeVar("F", bound=Callable[..., Any])


class MaskedError(Exception):
    """An unexpected error whose text had to be rewritten to mask 個人番号."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def mask_error(error: BaseException) -> BaseException:
    """``error`` with 個人番号 masked in its text and its causes (in place when possible)."""
    for e in _chain(error):
        if any(isinstance(a, str) and holds_twelve_digits(a) for a in e.args):
            e.args = tuple(scrub(a) if isinstance(a, str) else a for a in e.args)
    if not any(holds_twelve_digits(str(e)) for e in _chain(error)):
        return error
    # an exception that builds its text from other attributes: replace it, keep where it happened
    masked = MaskedError(f"{type(error).__name__}: {scrub(str(error))}")
    return masked.with_traceback(error.__traceback__)


def _passes_through(error: BaseException) -> bool:
    # tenken's own messages are built without 個人番号 (a 12-digit 宛名番号 must stay readable)
    return isinstance(error, TenkenInputError | dg.Failure)


def masked_errors(fn: F) -> F:
    """Decorate an asset or asset-check body (generator or not) with ``mask_error``."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from fn(*args, **kwargs)
            except Exception as e:
                if _passes_through(e):
                    raise
                masked = mask_error(e)
                if masked is e:
                    raise
                raise masked from None

        return generator  # type: ignore[return-value]

    @functools.wraps(fn)
    def plain(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            if _passes_through(e):
                raise
            masked = mask_error(e)
            if masked is e:
                raise
            raise masked from None

    return plain  # type: ignore[return-value]
