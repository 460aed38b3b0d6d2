"""The REST API shell: FastAPI routes over the query layer, served by `salespipe serve`.

The server owns a DuckDB warehouse (one writing process): reads use cursors of its
connection, loads run in a worker thread. A PostgreSQL warehouse it only shares with
other writers: reads use a small pool of connections (`engines` says how each engine is
served). `client` and `discovery` are stdlib-only so the CLI can find a running server
without the `api` extra.
"""
