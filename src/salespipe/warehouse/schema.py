"""The warehouse schema: a line-grain fact, conformed dimensions, the ledger and quarantine.

DDL is written once in DuckDB's dialect; other engines transpile it (see
docs/architecture.md). Money is DECIMAL everywhere, times are TIMESTAMPTZ.
"""

from __future__ import annotations

SCHEMA_VERSION = "1"

FACT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source", "VARCHAR NOT NULL"),
    ("file_id", "BIGINT NOT NULL"),
    ("row_key", "VARCHAR NOT NULL"),
    ("row_hash", "BIGINT NOT NULL"),
    ("transaction_id", "VARCHAR"),
    ("line_no", "VARCHAR"),
    ("sold_at", "TIMESTAMPTZ NOT NULL"),
    ("sale_date", "DATE NOT NULL"),
    ("store_id", "VARCHAR NOT NULL"),
    ("product_id", "VARCHAR NOT NULL"),
    ("customer_id", "VARCHAR"),
    ("salesperson_id", "VARCHAR"),
    ("quantity", "DECIMAL(18,4) NOT NULL"),
    ("unit_price", "DECIMAL(18,4) NOT NULL"),
    ("discount", "DECIMAL(18,4) NOT NULL"),
    ("unit_cost", "DECIMAL(18,4)"),
    ("currency", "VARCHAR"),
    ("fx_rate", "DECIMAL(18,8) NOT NULL"),
    ("line_revenue", "DECIMAL(38,10) NOT NULL"),
    ("line_cost", "DECIMAL(38,10)"),
    ("channel", "VARCHAR"),
    ("payment_method", "VARCHAR"),
)

# Dimension -> (key, attributes). Attributes keep the latest non-null value seen.
DIMENSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dim_product": ("product_id", ("product_name", "category", "subcategory", "brand")),
    "dim_store": ("store_id", ("store_name", "city", "region", "country")),
    "dim_customer": ("customer_id", ("customer_name",)),
    "dim_salesperson": ("salesperson_id", ("salesperson_name",)),
}

# Marts' bookkeeping: state per mart, refresh timings, the dimension attributes the marts
# were last built with (to detect changed attributes), and data test results per run.
MART_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS mart_state (name VARCHAR PRIMARY KEY, status VARCHAR, note VARCHAR,
        fingerprint VARCHAR, mode VARCHAR, rows BIGINT, seconds DOUBLE, refreshed_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS mart_refresh_log (run_id VARCHAR, name VARCHAR, mode VARCHAR,
        rows BIGINT, seconds DOUBLE, refreshed_at TIMESTAMPTZ)""",
    *(
        f"CREATE TABLE IF NOT EXISTS mart_seen_{table.removeprefix('dim_')} ("
        + ", ".join(f"{c} VARCHAR" for c in (key, *attrs))
        + ")"
        for table, (key, attrs) in DIMENSIONS.items()
    ),
    """CREATE TABLE IF NOT EXISTS check_results (run_id VARCHAR, name VARCHAR, kind VARCHAR,
        target VARCHAR, status VARCHAR, failures BIGINT, rows JSON, message VARCHAR, seconds DOUBLE,
        checked_at TIMESTAMPTZ)""",
)

# The monitor's history: stage timings per run, events (the API serves them as alerts,
# keep the names id .. snoozed_until), the days each event covers (kept out of the
# baselines) and every alert delivery.
MONITOR_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS run_stages (run_id VARCHAR, stage VARCHAR, seconds DOUBLE,
        rows BIGINT, status VARCHAR, detail VARCHAR, recorded_at TIMESTAMPTZ)""",
    "CREATE SEQUENCE IF NOT EXISTS monitor_event_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS monitor_events (
        id BIGINT DEFAULT nextval('monitor_event_id_seq'), kind VARCHAR, severity VARCHAR,
        subject VARCHAR, day DATE, observed DECIMAL(38,6), expected DECIMAL(38,6),
        message VARCHAR, state VARCHAR, opened_at TIMESTAMPTZ, last_seen_at TIMESTAMPTZ,
        resolved_at TIMESTAMPTZ, snoozed_until TIMESTAMPTZ, source VARCHAR, key VARCHAR,
        first_day DATE, acknowledged_at TIMESTAMPTZ, notified_at TIMESTAMPTZ,
        notified_severity VARCHAR, run_id VARCHAR, last_run_id VARCHAR, resolved_run_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS monitor_event_days (event_id BIGINT, subject VARCHAR,
        day DATE, observed DECIMAL(38,6), expected DECIMAL(38,6))""",
    """CREATE TABLE IF NOT EXISTS alert_deliveries (run_id VARCHAR, channel VARCHAR,
        status VARCHAR, attempts INTEGER, events INTEGER, error VARCHAR, seconds DOUBLE,
        sent_at TIMESTAMPTZ)""",
)

DDL: tuple[str, ...] = (
    "CREATE SEQUENCE IF NOT EXISTS file_id_seq START 1",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, command VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
        status VARCHAR, files INTEGER, rows_in BIGINT, rows_loaded BIGINT, rows_updated BIGINT,
        rows_quarantined BIGINT, rows_duplicate BIGINT, seconds DOUBLE, error VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS files (
        file_id BIGINT PRIMARY KEY, run_id VARCHAR, source VARCHAR, uri VARCHAR, name VARCHAR,
        content_hash VARCHAR, size_bytes BIGINT, contract VARCHAR, status VARCHAR,
        rows_in BIGINT, rows_loaded BIGINT, rows_updated BIGINT, rows_quarantined BIGINT,
        rows_duplicate BIGINT, reasons JSON, columns JSON, unused_columns JSON, error VARCHAR,
        min_date DATE, max_date DATE, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, seconds DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        file_id BIGINT, source VARCHAR, row_number BIGINT, line BIGINT, reasons VARCHAR[], raw JSON,
        state VARCHAR, replay_file_id BIGINT, quarantined_at TIMESTAMPTZ)""",
    "CREATE TABLE IF NOT EXISTS fact_sales ("
    + ", ".join(f"{name} {sql_type}" for name, sql_type in FACT_COLUMNS)
    + ")",
    # Keys a load touched and marts have not yet absorbed; consumed by the incremental refresh.
    "CREATE TABLE IF NOT EXISTS mart_dirty (file_id BIGINT, kind VARCHAR, key VARCHAR)",
    """CREATE TABLE IF NOT EXISTS dim_date (
        date DATE PRIMARY KEY, year INTEGER, quarter INTEGER, month INTEGER, month_start DATE,
        week INTEGER, day_of_month INTEGER, day_of_week INTEGER, day_name VARCHAR, is_weekend BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS dim_product (product_id VARCHAR PRIMARY KEY, product_name VARCHAR,
        category VARCHAR, subcategory VARCHAR, brand VARCHAR, first_sold DATE, last_sold DATE)""",
    """CREATE TABLE IF NOT EXISTS dim_store (store_id VARCHAR PRIMARY KEY, store_name VARCHAR,
        city VARCHAR, region VARCHAR, country VARCHAR, timezone VARCHAR, first_sold DATE, last_sold DATE)""",
    """CREATE TABLE IF NOT EXISTS dim_customer (customer_id VARCHAR PRIMARY KEY, customer_name VARCHAR,
        first_sold DATE, last_sold DATE)""",
    """CREATE TABLE IF NOT EXISTS dim_salesperson (salesperson_id VARCHAR PRIMARY KEY,
        salesperson_name VARCHAR, first_sold DATE, last_sold DATE)""",
    # The zone each source reads a store's local times in (the zone of its lines' business
    # day): sources may disagree, and dim_store keeps only the latest load's.
    """CREATE TABLE IF NOT EXISTS store_zones (source VARCHAR, store_id VARCHAR, timezone VARCHAR,
        PRIMARY KEY (source, store_id))""",
    *MART_DDL,
    *MONITOR_DDL,
)
