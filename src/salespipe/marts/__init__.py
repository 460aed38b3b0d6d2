"""KPI marts: declared models over the fact table, refreshed incrementally after each load.

Stage `marts` of the flow (load -> marts -> checks). Each mart lives in its own module
under `models/`, declaring grain, columns, needed fields and SQL steps ending in `final`.
"""

from salespipe.marts.model import Column, Mart
from salespipe.marts.refresh import MartRefresh, RefreshReport, refresh_marts
from salespipe.marts.registry import BUILD_ORDER, MART_NAMES, MARTS, get_mart

__all__ = [
    "BUILD_ORDER",
    "MARTS",
    "MART_NAMES",
    "Column",
    "Mart",
    "MartRefresh",
    "RefreshReport",
    "get_mart",
    "refresh_marts",
]
