"""The mart registry: lookup by name and a build order where every mart follows its inputs."""

from __future__ import annotations

from salespipe.errors import UsageError
from salespipe.marts.model import Mart
from salespipe.marts.models import INTERMEDIATE, PUBLIC


def _build_order(marts: tuple[Mart, ...]) -> tuple[Mart, ...]:
    by_name = {m.name: m for m in marts}
    ordered: list[Mart] = []
    visiting: set[str] = set()

    def visit(mart: Mart) -> None:
        if mart in ordered:
            return
        if mart.name in visiting:
            raise ValueError(f"mart {mart.name} depends on itself")
        visiting.add(mart.name)
        for name in mart.upstream:
            if name not in by_name:
                raise ValueError(f"mart {mart.name} reads unknown table {{{name}}}")
            visit(by_name[name])
        visiting.discard(mart.name)
        ordered.append(mart)

    for mart in marts:
        visit(mart)
    return tuple(ordered)


MARTS: tuple[Mart, ...] = PUBLIC
BUILD_ORDER: tuple[Mart, ...] = _build_order(PUBLIC + INTERMEDIATE)
MART_NAMES: tuple[str, ...] = tuple(m.name for m in PUBLIC)


def get_mart(name: str, *, internal: bool = False) -> Mart:
    """A public mart by name (or an intermediate one with internal=True)."""
    for mart in BUILD_ORDER:
        if mart.name == name and (mart.public or internal):
            return mart
    raise UsageError(
        f"no mart named '{name}'",
        hint="`salespipe marts list` shows them: " + ", ".join(MART_NAMES),
    )


def downstream(name: str) -> tuple[str, ...]:
    """Marts that read `name`, directly or not."""
    found: list[str] = []
    for mart in BUILD_ORDER:
        if name in mart.upstream or any(u in found for u in mart.upstream):
            found.append(mart.name)
    return tuple(found)
