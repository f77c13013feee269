from django import template

register = template.Library()


@register.inclusion_tag("stocktool/_chart.html")
def chart(c):
    """A chart of stocktool.charts: its SVG and legend (the page without JavaScript), and its data for charts.js."""
    return {"c": c}


@register.inclusion_tag("stocktool/_chart_assets.html")
def chart_assets():
    """The chart library and the script that draws a page's charts with it (deferred: the SVG shows until then)."""
    return {}
