"""Every mart, one module each; intermediate models (int_*) are internal building blocks."""

from __future__ import annotations

from salespipe.marts.model import Mart
from salespipe.marts.models import (
    cohort_retention,
    customer_rfm,
    int_customer_months,
    int_customer_totals,
    int_customer_transactions,
    item_consistency,
    new_vs_existing_items,
    price_quantity,
    product_abc,
    returns_summary,
    rolling_revenue,
    sales_by_category,
    sales_by_store,
    sales_daily,
    sales_hourly,
    sales_monthly,
    salesperson_monthly,
    store_category_matrix,
    store_variance,
    top_products,
)

# In DESIGN.md's order, then additions to it; also the order of docs/marts.md.
PUBLIC: tuple[Mart, ...] = (
    sales_daily.MART,
    sales_monthly.MART,
    sales_by_store.MART,
    sales_by_category.MART,
    top_products.MART,
    product_abc.MART,
    store_category_matrix.MART,
    store_variance.MART,
    price_quantity.MART,
    item_consistency.MART,
    new_vs_existing_items.MART,
    rolling_revenue.MART,
    customer_rfm.MART,
    cohort_retention.MART,
    salesperson_monthly.MART,
    returns_summary.MART,
    sales_hourly.MART,
)
INTERMEDIATE: tuple[Mart, ...] = (
    int_customer_transactions.MART,
    int_customer_totals.MART,
    int_customer_months.MART,
)
