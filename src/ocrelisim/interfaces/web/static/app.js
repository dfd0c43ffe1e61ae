// Draws every figure whose Plotly spec the page embeds (<div data-plot="ID-spec">).
// No network: plotly-basic.min.js is served by this server.
(function () {
  "use strict";
  var config = {responsive: true, displaylogo: false, displayModeBar: false};
  document.querySelectorAll("[data-plot]").forEach(function (div) {
    var node = document.getElementById(div.getAttribute("data-plot"));
    if (!node || typeof Plotly === "undefined") { return; }
    var spec = JSON.parse(node.textContent);
    Plotly.newPlot(div, spec.data, spec.layout, config).then(function () {
      div.setAttribute("data-drawn", "true");
    });
  });
})();
