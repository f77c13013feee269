// Redraws the server's SVG charts (stocktool/charts.py) with uPlot: each point's date and values in a live
// legend as the pointer moves (or the arrow keys, once the chart has focus), resizing with the page. Without
// JavaScript, or before this runs, the SVG shows, with its axes and a value on hover of each point.
(function () {
  "use strict";
  var MINUS = "\u2212";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var DAY = 86400;
  var WHOLE = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2.5e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6, 1e7];

  // As stocktool.charts.format_value writes a figure: the minus sign, "$", "%", a unit.
  function formatValue(v, f, digits) {
    if (v == null || !isFinite(v)) { return "–"; }
    var d = digits == null ? f.digits : digits;
    var m = Math.abs(v) * (f.kind === "percent" ? 100 : 1);
    var text = m.toLocaleString("en-US", {minimumFractionDigits: d, maximumFractionDigits: d});
    if (f.kind === "percent" || f.kind === "points") { text += "%"; }
    else if (f.kind === "money") { text = (!f.currency || f.currency === "USD") ? "$" + text : text + " " + f.currency; }
    else if (f.unit) { text += " " + f.unit; }
    return (v < 0 && /[1-9]/.test(text) ? MINUS : "") + text;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // Dates and times in UTC, as the server writes them ("5 Jan 2026", "14:05 UTC").
  function whenWriter(data) {
    var span = data.window[1] - data.window[0];
    return function (ts) {
      var t = new Date(ts * 1000);
      var day = t.getUTCDate() + " " + MONTHS[t.getUTCMonth()];
      var hm = pad(t.getUTCHours()) + ":" + pad(t.getUTCMinutes());
      if (!data.intraday) { return day + " " + t.getUTCFullYear(); }
      return span > 0.75 * DAY ? day + " " + hm + " UTC" : hm + " UTC";
    };
  }

  // An x tick as short as its spacing allows: "Aug 2026" a month or more apart, "5 Nov" days apart, "14:05".
  function tickText(ts, incr) {
    var t = new Date(ts * 1000);
    if (incr >= 28 * DAY) { return MONTHS[t.getUTCMonth()] + " " + t.getUTCFullYear(); }
    if (incr >= DAY) { return t.getUTCDate() + " " + MONTHS[t.getUTCMonth()]; }
    return pad(t.getUTCHours()) + ":" + pad(t.getUTCMinutes());
  }

  function latest(values) {
    for (var i = values.length - 1; i >= 0; i--) { if (values[i] != null) { return values[i]; } }
    return null;
  }

  // Decimals enough to tell the y axis's ticks apart.
  function tickDigits(splits, f) {
    var step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) * (f.kind === "percent" ? 100 : 1) : 1;
    for (var d = 0; d < 6; d++) {
      if (Math.abs(Math.round(step * Math.pow(10, d)) - step * Math.pow(10, d)) < 1e-6) { return d; }
    }
    return 6;
  }

  function colourOf(box, cls) {
    var probe = document.createElement("span");
    probe.className = cls;
    probe.hidden = true;
    box.appendChild(probe);
    var value = getComputedStyle(probe).getPropertyValue("--series").trim();
    box.removeChild(probe);
    return value || getComputedStyle(box).color;
  }

  function sizeFor(box) {
    var width = Math.max(240, Math.floor(box.clientWidth));
    return {width: width, height: Math.round(Math.max(180, Math.min(260, width * 0.34)))};
  }

  function build(box) {
    var source = box.querySelector("script[type='application/json']");
    var svg = box.querySelector("svg.chart");
    if (!source || !svg || box.dataset.chartReady) { return; }
    var data = JSON.parse(source.textContent);
    if (!data.series.length) { return; }  // "no data in this window": the SVG says so
    box.dataset.chartReady = "true";
    var f = data.format;
    var when = whenWriter(data);
    var style = getComputedStyle(box);
    var fg = style.getPropertyValue("--muted").trim() || style.color;
    var line = style.getPropertyValue("--line").trim() || "#ccc";
    var axis = {stroke: fg, grid: {stroke: line, width: 1}, ticks: {stroke: line, width: 1}, font: "11px system-ui, sans-serif"};

    var holder = document.createElement("div");
    holder.className = "chart-live";
    holder.tabIndex = 0;
    holder.setAttribute("role", "group");
    holder.setAttribute("aria-label", data.title + ": the arrow keys move along the dates, the legend shows the values");

    var opts = {
      width: sizeFor(box).width,
      height: sizeFor(box).height,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: {
        x: {time: true, range: data.window[1] > data.window[0] ? function () { return data.window; } : undefined},
        y: {range: function (u, min, max) {
          if (data.from_zero) { min = Math.min(min, 0); max = Math.max(max, 0); }
          if (min === max) { max = min + 1; }
          return uPlot.rangeNum(min, max, 0.1, true);
        }},
      },
      // Away from the chart, the legend shows the latest values; over it, those of the date under the pointer.
      series: [{label: data.intraday ? "Time" : "Date", value: function (u, ts) {
        return when(u.cursor.idx == null ? data.x[data.x.length - 1] : ts);
      }}].concat(data.series.map(function (s) {
        return {label: s.label, stroke: colourOf(box, s.css), width: 2, spanGaps: true,
                points: {show: data.x.length <= 40, size: 4},
                value: function (u, v) { return formatValue(u.cursor.idx == null ? latest(s.values) : v, f); }};
      })),
      axes: [
        Object.assign({}, axis, {space: 64, values: function (u, splits, axisIdx, space, incr) {
          return splits.map(function (ts) { return tickText(ts, incr); });
        }}),
        Object.assign({}, axis, {size: 64, incrs: f.digits === 0 && f.kind !== "percent" ? WHOLE : undefined,
                                 values: function (u, splits) {
          var d = tickDigits(splits, f);
          return splits.map(function (v) { return formatValue(v, f, d); });
        }}),
      ],
      legend: {live: true},
      padding: [8, 30, 0, 0],  // room for the last date label
      cursor: {focus: {prox: 24}},
    };
    var plot = new uPlot(opts, [data.x].concat(data.series.map(function (s) { return s.values; })), holder);

    svg.setAttribute("hidden", "");  // (an SVG element has no .hidden property)
    var legend = box.querySelector(".legend");
    if (legend) { legend.hidden = true; }
    box.insertBefore(holder, svg);
    plot.setSize(sizeFor(box));

    // The keyboard walks the dates as the pointer does.
    holder.addEventListener("keydown", function (e) {
      var last = data.x.length - 1;
      var idx = plot.cursor.idx == null ? last : plot.cursor.idx;
      if (e.key === "ArrowLeft") { idx = Math.max(0, idx - 1); }
      else if (e.key === "ArrowRight") { idx = Math.min(last, idx + 1); }
      else if (e.key === "Home") { idx = 0; }
      else if (e.key === "End") { idx = last; }
      else { return; }
      e.preventDefault();
      var y = data.series[0].values[idx];
      plot.setCursor({left: plot.valToPos(data.x[idx], "x"), top: y == null ? 0 : plot.valToPos(y, "y")});
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        var size = sizeFor(box);
        if (size.width !== plot.width || size.height !== plot.height) { plot.setSize(size); }
      }).observe(box);
    }
  }

  function mount(root) {
    if (!window.uPlot) { return; }  // the library did not load: the SVG stays
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-chart]"), function (box) {
      try { build(box); } catch (err) { if (window.console) { console.error("chart:", err); } }
    });
  }

  window.StockToolCharts = {mount: mount, formatValue: formatValue};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { mount(document); });
  } else {
    mount(document);
  }
})();
