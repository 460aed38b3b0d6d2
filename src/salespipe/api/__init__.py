"""The REST API shell: FastAPI routes over the query layer, served by `salespipe serve`.

The server owns the warehouse (DuckDB has one writing process): reads use cursors of its
connection, loads run in a worker thread. `client` and `discovery` are stdlib-only so
the CLI can find a running server without the `api` extra.
"""
