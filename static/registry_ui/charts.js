// Draws every Plotly figure of a page. A figure travels as a JSON data block
// (Django's json_script, type="application/json") named by the data-figure attribute
// of its container, so no page needs inline script and the CSP stays strict.
//
// Usage in a template: {% chart figure "some-id" "What the chart shows" %} and, in the
// scripts block, {% include "registry_ui/includes/chart_scripts.html" %}.
"use strict";

(function () {
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };
  // Trace types Plotly draws with WebGL; without it Plotly would print its own notice
  // across the page, so the container says what happened instead.
  const WEBGL_TYPES = new Set(["parcoords", "scattergl", "splom", "heatmapgl"]);

  function webglAvailable() {
    try {
      const canvas = document.createElement("canvas");
      return Boolean(canvas.getContext("webgl") || canvas.getContext("experimental-webgl"));
    } catch (error) {
      return false;
    }
  }

  function explain(container, text) {
    const note = document.createElement("p");
    note.className = "notice warn";
    note.textContent = text;
    container.replaceChildren(note);
    container.classList.add("chart-unavailable");
  }

  function draw(container, hasWebgl) {
    const block = document.getElementById(container.dataset.figure);
    if (!block) {
      return;
    }
    const figure = JSON.parse(block.textContent);
    const data = figure.data || [];
    if (!hasWebgl && data.some((trace) => WEBGL_TYPES.has(trace.type))) {
      explain(container, "This browser cannot draw this chart (it needs WebGL). The table on this page holds the same values.");
      return;
    }
    const config = Object.assign({}, CONFIG, figure.config || {});
    window.Plotly.newPlot(container, data, figure.layout || {}, config).catch(function () {
      explain(container, "This chart could not be drawn. The table on this page holds the same values.");
    });
  }

  function drawAll() {
    const containers = document.querySelectorAll("[data-figure]");
    if (!containers.length) {
      return;
    }
    if (!window.Plotly) {
      containers.forEach((container) => explain(container, "The chart library did not load."));
      return;
    }
    const hasWebgl = webglAvailable();
    containers.forEach((container) => draw(container, hasWebgl));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
