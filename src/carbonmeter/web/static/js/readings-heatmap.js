/* Metering-data ledger: availability per measuring point and month (ECharts heatmap, rendered locally).
 * Data come from the page (json_script "heatmap-data"): months, points and [month, point, pct, readings]
 * cells.  A month without any reading (no data: "—", not a red 0 %) and a month where nothing was expected
 * (no data profile, or not begun) have a null pct and are drawn grey, outside the scale.  A running month's
 * pct counts only the slots that have already begun. */
(function () {
  "use strict";
  var el = document.getElementById("heatmap");
  var dataEl = document.getElementById("heatmap-data");
  if (!el || !dataEl || typeof echarts === "undefined") { return; }
  var d = JSON.parse(dataEl.textContent);
  if (!d.points.length) { el.hidden = true; return; }
  var label = el.dataset.label || "";
  var none = el.dataset.none || "—";
  var cells = d.cells.filter(function (c) { return c[2] !== null; });
  /* Months without data form a second series outside the colour scale, so they stay grey. */
  var empty = d.cells.filter(function (c) { return c[2] === null; }).map(function (c) { return { value: [c[0], c[1], 0], empty: true }; });
  el.style.height = Math.max(220, d.points.length * 26 + 90) + "px";
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
    tooltip: {
      formatter: function (p) {
        /* Point names are the plant's own text: escaped, as the tooltip is HTML. */
        var esc = echarts.format.encodeHTML;
        var text = p.data && p.data.empty ? none : label + " " + p.value[2] + "%" + (p.value[3] ? "" : "（" + none + "）");
        return esc(d.points[p.value[1]]) + "<br>" + esc(d.months[p.value[0]]) + "：" + esc(text);
      }
    },
    xAxis: { type: "category", data: d.months, splitArea: { show: true } },
    yAxis: { type: "category", data: d.points, inverse: true, splitArea: { show: true } },
    visualMap: {
      seriesIndex: 0, min: 0, max: 100, calculable: true, orient: "horizontal", left: "center", bottom: 0,
      itemHeight: 160, text: ["100%", "0%"],
      inRange: { color: ["#c62828", "#f0ad00", "#198754"] }
    },
    series: [{
      name: label, type: "heatmap", data: cells,
      label: { show: d.points.length <= 40, fontSize: 10,
        formatter: function (p) { return Math.round(p.value[2]); } },
      emphasis: { itemStyle: { borderColor: "#212529", borderWidth: 1 } }
    }, {
      name: none, type: "heatmap", data: empty, itemStyle: { color: "#e9ecef" },
      emphasis: { itemStyle: { borderColor: "#212529", borderWidth: 1 } }
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
