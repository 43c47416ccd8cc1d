// Draws every Plotly figure of a page. A figure travels as a JSON data block
// (Django's json_script, type="application/json") named by the data-figure attribute
// of its container, so no page needs inline script and the CSP stays strict.
"use strict";

(function () {
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };

  function draw(container) {
    const block = document.getElementById(container.dataset.figure);
    if (!block) {
      return;
    }
    const figure = JSON.parse(block.textContent);
    const config = Object.assign({}, CONFIG, figure.config || {});
    window.Plotly.newPlot(container, figure.data || [], figure.layout || {}, config);
  }

  function drawAll() {
    if (!window.Plotly) {
      return;
    }
    document.querySelectorAll("[data-figure]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
