"""Synthetic sales data behind `salespipe generate`: realistic POS exports to load.

Seasonal, multi-store, multi-line transactions with returns and promotions,
optionally with a known share of defective lines labelled by reason code.
"""

from __future__ import annotations

from salespipe.generate.defects import DEFECT_CODES
from salespipe.generate.options import GenerateOptions, GenerateReport
from salespipe.generate.run import generate_sales
from salespipe.generate.writers import FORMATS

__all__ = ["DEFECT_CODES", "FORMATS", "GenerateOptions", "GenerateReport", "generate_sales"]
