"""The live dashboard: a Streamlit shell over the REST API (stage `serve` of the flow).

It holds no SQL and opens no warehouse: every number comes from `salespipe serve` over
HTTP, cached by the API's snapshot id, so the dashboard shows what the API says.
"""
