# mypy: disable-error-code="import-untyped"
"""Run Streamlit with the dashboard's heavy imports done before the first visitor.

Streamlit imports a script's modules on the first session; pandas, pyarrow and Plotly
(with its figure templates) take over a second to load, which the first person to open
the dashboard would otherwise wait for. `python -m salespipe.dashboard.server run
app.py ...` takes the arguments of `streamlit`.
"""

from __future__ import annotations


def warm_up() -> None:
    import plotly.graph_objects as go
    import plotly.io as pio

    import salespipe.dashboard.app  # noqa: F401  (and through it client, data, frames, ui)
    import salespipe.dashboard.charts as charts

    figure = charts.layout(go.Figure(go.Bar(x=[1], y=[1])))
    pio.to_json(figure)


def main() -> None:
    from streamlit.web.cli import main as streamlit_main

    warm_up()
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
