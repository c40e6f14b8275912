/* Dashboard: equipping rate per Table A.1 row against the required rate (ECharts, rendered locally).
 * Data come from the page (json_script "rate-data"); rows with nothing required have a null rate and are
 * shown as "—" rather than as a 0 % bar, which would read as a failure. */
(function () {
  "use strict";
  var el = document.getElementById("rate-chart");
  var dataEl = document.getElementById("rate-data");
  if (!el || !dataEl || typeof echarts === "undefined") { return; }
  var d = JSON.parse(dataEl.textContent);
  if (!d.labels.length) { el.hidden = true; return; }
  var none = el.dataset.noneLabel || "—";
  var fail = getComputedStyle(document.documentElement).getPropertyValue("--cm-danger").trim() || "#dc3545";
  var pass = getComputedStyle(document.documentElement).getPropertyValue("--cm-success").trim() || "#198754";
  var rate = d.rate.map(function (v, i) {
    if (v === null) {
      return { value: 0, itemStyle: { opacity: 0 }, label: { show: true, formatter: none, color: "#6c757d" } };
    }
    return { value: v, itemStyle: { color: v + 1e-9 >= d.required[i] ? pass : fail } };
  });
  el.style.height = Math.max(260, d.labels.length * 46 + 60) + "px";
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    grid: { left: 8, right: 48, top: 30, bottom: 8, containLabel: true },
    legend: { top: 0, data: [el.dataset.rateLabel, el.dataset.requiredLabel] },
    tooltip: {
      trigger: "axis", axisPointer: { type: "shadow" },
      formatter: function (ps) {
        var i = ps[0].dataIndex;
        var r = d.rate[i] === null ? none : d.rate[i] + "%";
        return d.labels[i] + "<br>" + el.dataset.rateLabel + "：" + r + "<br>" +
          el.dataset.requiredLabel + "：" + d.required[i] + "%<br>" + el.dataset.countLabel + "：" + d.counts[i];
      }
    },
    xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", data: d.labels, inverse: true, axisTick: { show: false } },
    series: [
      { name: el.dataset.rateLabel, type: "bar", data: rate, barMaxWidth: 22, itemStyle: { color: pass },
        label: { show: true, position: "right", formatter: "{c}%" },
        showBackground: true, backgroundStyle: { color: "rgba(180, 180, 180, 0.12)" } },
      /* The required rate is a target, drawn as a tick across the bar rather than as a second bar. */
      { name: el.dataset.requiredLabel, type: "scatter", data: d.required, symbol: "rect",
        symbolSize: [3, 26], itemStyle: { color: "#212529" }, z: 3 }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
