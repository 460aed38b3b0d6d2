"""Data tests after each refresh: keys, not-null, ranges, relationships and reconciliation.

Stage `checks` of the flow (load -> marts -> checks). Tests are generated from the
marts' declarations plus fixed tests of the fact table; results are stored per run
in `check_results`, and a failed test fails the run.
"""

from salespipe.quality.after_load import (
    AfterLoad,
    check_run,
    loaded_file_ids,
    refresh_and_check,
    refresh_run,
)
from salespipe.quality.model import CheckReport, CheckResult, DataTest
from salespipe.quality.runner import run_checks, stored_report

__all__ = [
    "AfterLoad",
    "CheckReport",
    "CheckResult",
    "DataTest",
    "check_run",
    "loaded_file_ids",
    "refresh_and_check",
    "refresh_run",
    "run_checks",
    "stored_report",
]
