"""The one query layer: KPIs and ledger views that the CLI, the API and the dashboard share."""
