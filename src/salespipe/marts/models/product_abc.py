"""product_abc: Pareto analysis of products over all time, with A/B/C classes."""

from __future__ import annotations

from salespipe.marts.measures import COST_COLUMNS
from salespipe.marts.model import FLOAT, INT, QTY, TEXT, Column, Mart, Whole, key, money

MART = Mart(
    name="product_abc",
    description="Each product's share of all-time net sales, cumulative share and A/B/C class.",
    grain=("product_id",),
    columns=(
        key("product_id", TEXT, "Product.", references="dim_product"),
        Column("product_name", TEXT, "Name of the product (latest known)."),
        Column("category", TEXT, "Category of the product (latest known)."),
        Column(
            "pareto_rank",
            INT,
            "Position by net_sales, highest first; ties broken by product_id ascending.",
            not_null=True,
            min_value=1,
        ),
        money("net_sales", "All-time net sales of the product.", not_null=True),
        Column(
            "units_sold", QTY, "All-time units sold (quantity > 0).", not_null=True, min_value=0
        ),
        Column(
            "share_pct",
            FLOAT,
            "100 * net_sales / net sales of all products; null when that is <= 0.",
        ),
        Column(
            "cumulative_share_pct",
            FLOAT,
            "Share of this product and every product ranked before it.",
        ),
        Column(
            "abc_class",
            TEXT,
            "A: the top products that together first reach 80% of net sales; B: the next ones "
            "up to 95%; C: the rest. Null when all products net to <= 0.",
            accepted=("A", "B", "C"),
        ),
        *COST_COLUMNS,
    ),
    refresh=Whole(),
    notes=(
        "Boundary rule: products are ordered by net_sales descending, then product_id. A "
        "product's class is decided by the cumulative share of the products ranked *before* "
        "it: below 80% it is A, below 95% B, else C. So the product that crosses 80% is still "
        "A (A is the smallest top set reaching 80%), a product starting exactly at 80% is B, "
        "and the product that crosses 95% is B. The top product is always A.",
        "Comparisons are exact: 100 * cumulative_before < 80 * total in decimals, not in "
        "rounded percentages.",
        "Products that net negative (more returned than sold) rank last; the shares of the "
        "others then add up to more than 100%, and the negative ones are C.",
    ),
    steps=(
        (
            "totals",
            """
SELECT product_id,
  sum(net_sales) AS net_sales,
  sum(units_sold) AS units_sold,
  CASE WHEN count(cost) = count(*) THEN sum(cost) END AS cost
FROM {top_products}
GROUP BY product_id""",
        ),
        (
            "ranked",
            """
SELECT product_id, net_sales, units_sold, cost,
  ROW_NUMBER() OVER (ORDER BY net_sales DESC, product_id ASC) AS pareto_rank,
  sum(net_sales) OVER (
    ORDER BY net_sales DESC, product_id ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS cumulative_net_sales,
  sum(net_sales) OVER () AS total_net_sales
FROM totals""",
        ),
        (
            "classified",
            """
SELECT r.*,
  CASE WHEN total_net_sales > 0
       THEN 100 * CAST(net_sales AS DOUBLE) / CAST(total_net_sales AS DOUBLE) END AS share_pct,
  CASE WHEN total_net_sales > 0
       THEN 100 * CAST(cumulative_net_sales AS DOUBLE) / CAST(total_net_sales AS DOUBLE)
  END AS cumulative_share_pct,
  CASE WHEN total_net_sales <= 0 THEN NULL
       WHEN 100 * (cumulative_net_sales - net_sales) < 80 * total_net_sales THEN 'A'
       WHEN 100 * (cumulative_net_sales - net_sales) < 95 * total_net_sales THEN 'B'
       ELSE 'C'
  END AS abc_class
FROM ranked r""",
        ),
        (
            "final",
            """
SELECT c.*, p.product_name, p.category,
  {profit_and_margin}
FROM classified c
LEFT JOIN {dim_product} p ON p.product_id = c.product_id""",
        ),
    ),
)
