/* Emissions of an assessment run: per formula stream the declared and the computed tonnes (horizontal bars),
 * the computed value's expanded uncertainty U95 as an error bar (a custom series), the plant's net total last.
 * Data come from the page (json_script "emissions-data"): rows [{name, declared, computed, u95}] and the
 * legend's words in the page's language.  A stream whose uncertainty is not judged has u95 null: no bar. */
(function () {
  "use strict";
  var el = document.getElementById("emissions-chart");
  var dataEl = document.getElementById("emissions-data");
  if (!el || !dataEl || typeof echarts === "undefined") { return; }
  var d = JSON.parse(dataEl.textContent);
  var rows = d.rows, L = d.labels;
  if (!rows.length) { el.hidden = true; return; }
  var names = rows.map(function (r) { return r.name; });
  var errors = rows.map(function (r, i) {
    return r.u95 === null ? null : [i, r.computed - r.u95, r.computed + r.u95];
  }).filter(function (e) { return e !== null; });
  var fmt = function (x) { return Math.round(x).toLocaleString(); };
  el.style.height = Math.max(260, rows.length * 44 + 80) + "px";
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    legend: { top: 0, data: [L.declared, L.computed, L.u95] },
    grid: { left: 8, right: 40, top: 32, bottom: 32, containLabel: true },
    tooltip: {
      trigger: "axis", axisPointer: { type: "shadow" },
      formatter: function (ps) {
        /* Stream names are the plant's own text: escaped, as the tooltip is HTML. */
        var esc = echarts.format.encodeHTML, r = rows[ps[0].dataIndex];
        var lines = [esc(r.name)];
        if (r.declared !== null) { lines.push(esc(L.declared) + "：" + fmt(r.declared) + " t"); }
        lines.push(esc(L.computed) + "：" + fmt(r.computed) + " t");
        if (r.u95 !== null) { lines.push(esc(L.u95) + "：± " + fmt(r.u95) + " t"); }
        return lines.join("<br>");
      }
    },
    xAxis: { type: "value", name: L.unit, nameLocation: "middle", nameGap: 28,
      axisLabel: { formatter: function (v) { return fmt(v); } } },
    yAxis: { type: "category", data: names, inverse: true, axisLabel: { width: 220, overflow: "truncate" } },
    series: [
      { name: L.declared, type: "bar", barGap: "10%", itemStyle: { color: "#adb5bd" },
        data: rows.map(function (r) { return r.declared; }) },
      { name: L.computed, type: "bar", itemStyle: { color: "#0d6efd" },
        data: rows.map(function (r) { return r.computed; }) },
      { name: L.u95, type: "custom", z: 10, data: errors, encode: { x: [1, 2], y: 0 },
        itemStyle: { color: "#212529" },
        renderItem: function (params, api) {
          var y = api.value(0), lo = api.coord([api.value(1), y]), hi = api.coord([api.value(2), y]);
          /* The computed bar is the lower of the two in its category: shift the whisker onto it. */
          var band = api.size([0, 1])[1], off = band * 0.2, h = band * 0.15;
          var style = api.style({ stroke: api.visual("color"), fill: null, lineWidth: 1.5 });
          var cy = lo[1] + off;
          return { type: "group", children: [
            { type: "line", shape: { x1: lo[0], y1: cy, x2: hi[0], y2: cy }, style: style },
            { type: "line", shape: { x1: lo[0], y1: cy - h, x2: lo[0], y2: cy + h }, style: style },
            { type: "line", shape: { x1: hi[0], y1: cy - h, x2: hi[0], y2: cy + h }, style: style }
          ] };
        } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
