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


def test_date_labels_never_overlap_and_every_bar_has_a_hover_value():
    from helpdesk.charts import label_step

    days = [(f"{d:02d} Nov", float(d), f"2026-11-{d:02d}: {d} created") for d in range(1, 31)]
    svg = str(column_chart(days, low=0, high=32, title="Created", table=("Day", "Created")))
    labels = [float(part.split('"')[0]) for part in svg.split('<text class="label" x="')[1:]]
    assert 5 <= len(labels) <= 12 and labels[0] < labels[1]
    gaps = {round(b - a, 1) for a, b in zip(labels, labels[1:], strict=False)}
    assert min(gaps) >= 6 * 6.6 + 8  # "06 Nov" fits before the next label starts
    assert svg.count("<title>2026-11-") == 30  # every bar, labelled or not, tells its value on hover
    assert '<details class="chart-data">' in svg
    assert '<th scope="row">30 Nov</th><td>2026-11-30: 30 created</td>' in svg
    assert label_step(["Mon"], 100) == 1 and label_step(["a long label"] * 3, 10) == 9


def test_heatmap_cells_carry_their_value_and_a_shade():
    from helpdesk.charts import heatmap_chart

    svg = str(heatmap_chart(["Mon", "Tue"], ["00", "01"], [[0, 4], [1, 2]], title="Busiest <hours>",
                            tip="{row} {column}:00: {value} tickets"))
    assert svg.count("<rect") == 4 and "<title>Mon 01:00: 4 tickets</title>" in svg
    assert 'class="cell heat-0"' in svg and 'class="cell heat-4"' in svg
    assert "Busiest &lt;hours&gt;" in svg and "style=" not in svg and "<script" not in svg
    assert plugin_api.heatmap_chart is heatmap_chart
