"""The core's SVG charts (``plugin_api.column_chart``/``bar_chart``): CSP-safe, escaped."""
from __future__ import annotations

from helpdesk import plugin_api
from helpdesk.charts import bar_chart, column_chart


def test_column_chart_draws_a_bar_per_value_and_hangs_negatives_below_zero():
    svg = str(column_chart([("Jan", 40.0, "Jan: 40"), ("Feb", -20.0, "Feb: -20"), ("Mar", None, "no answers")],
                           low=-100, high=100, title="NPS <by month>", chart_class="surveys-chart", css_class="nps"))
    assert svg.startswith('<svg class="surveys-chart nps"') and "style=" not in svg and "<script" not in svg
    assert svg.count('<rect class="bar"') == 1 and svg.count('<rect class="bar negative"') == 1
    assert "NPS &lt;by month&gt;" in svg and "<by month>" not in svg
    assert svg.count('class="grid"') == 5 and ">Mar</text>" in svg


def test_empty_charts_say_so():
    assert ">No answers yet</text>" in str(column_chart([], low=0, high=100, title="t", empty="No answers yet"))
    assert ">Nobody</text>" in str(bar_chart([], title="t", empty="Nobody"))


def test_bar_chart_scales_to_the_largest_and_shortens_long_labels():
    svg = str(bar_chart([("Ann", 10, "10"), ("Bo", 5, "5"), ("A very long name indeed, really", 0, "0")],
                        title="Kudos", chart_class="recognition-chart"))
    widths = [float(part.split('"')[0]) for part in svg.split('width="')[1:]]
    assert widths == [300.0, 150.0]  # 0 draws no bar
    assert "A very long name inde…" in svg
    assert plugin_api.bar_chart is bar_chart and plugin_api.column_chart is column_chart
