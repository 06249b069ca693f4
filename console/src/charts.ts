// Chart.js, tree-shaken to the bar and line charts the dashboard draws (bundled; no CDN).

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";
import { h } from "./dom";
import { onLeave } from "./refresh";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);
Chart.defaults.font.family = '"WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

export const COLORS = ["#1f5fa8", "#d9822b", "#2e8b57", "#b03a48", "#7b5ea7", "#3c8dbc"];

export function chart(name: string, config: ChartConfiguration, height = 260): HTMLElement {
  const canvas = h("canvas", { role: "img", "aria-label": name });
  const box = h("div", { class: "chart", "data-chart": name }, canvas);
  box.style.height = `${height}px`; // CSSOM, not a style attribute: the page's CSP forbids inline styles
  // Drawn once the canvas is in the document (Chart.js measures its container).
  requestAnimationFrame(() => {
    if (!canvas.isConnected) return;
    const c = new Chart(canvas, config);
    onLeave(() => c.destroy());
  });
  return box;
}
