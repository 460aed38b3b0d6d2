"""The marts stage's error: a mart that could not be refreshed, named, with what to do next."""

from __future__ import annotations

from salespipe.errors import SalespipeError


class MartError(SalespipeError):
    """A mart failed to refresh; the loads before it are committed and stay dirty for it."""


def database_errors() -> tuple[type[BaseException], ...]:
    """The exception classes a warehouse raises for a failed statement."""
    import duckdb

    found: list[type[BaseException]] = [duckdb.Error]
    try:
        import psycopg
    except ImportError:
        pass  # no PostgreSQL support installed: DuckDB's errors are all there is
    else:
        found.append(psycopg.Error)
    return tuple(found)
