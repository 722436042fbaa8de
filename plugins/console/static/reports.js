// Supervisors' report view in place of the desk: today, 7 or 30 of the shop's days, broken down
// by KB category, tag, agent, channel or group (GET /reports, which refuses anyone else).
import { get } from "./api.js";
import { h, $, toast } from "./dom.js";
import { shopDay, shopZone, t } from "./i18n.js";
import { BREAKDOWNS, drawReport } from "./report_figures.js";

const PERIODS = { today: 0, week: 6, month: 29 }; // days before today that the period starts
const view = { period: "week", by: "category", shown: null, asked: 0 };

export const reportsOpen = () => !$("#reports").hidden;

function drawControls() {
  for (const button of document.querySelectorAll("#report-periods [data-period]")) {
    button.setAttribute("aria-pressed", String(button.dataset.period === view.period));
  }
  $("#report-by").value = view.by;
  $("#report-zone").textContent = t("reportTimes", { zone: shopZone() });
}

async function load() {
  const asked = ++view.asked; // a slow answer to an earlier choice must not replace a later one
  const query = new URLSearchParams({ since: shopDay(PERIODS[view.period]), by: view.by });
  const box = $("#reports");
  box.setAttribute("aria-busy", "true");
  try {
    const report = await get(`/reports?${query}`);
    if (asked !== view.asked) return;
    view.shown = { report, by: view.by };
    drawReport(report, view.by);
    box.removeAttribute("aria-busy");
  } catch (error) {
    if (asked !== view.asked) return;
    box.removeAttribute("aria-busy");
    toast(error.message, "error");
    if (error.status === 403) closeReports();
  }
}

export function openReports() {
  $(".panes").hidden = true;
  $("#reports").hidden = false;
  $("#reports-open").setAttribute("aria-pressed", "true");
  drawControls();
  load();
}

export function closeReports() {
  if (!reportsOpen()) return;
  $("#reports").hidden = true;
  $(".panes").hidden = false;
  $("#reports-open").setAttribute("aria-pressed", "false");
}

/* The language changed: the same figures, in its words. */
export function redrawReports() {
  if (!reportsOpen()) return;
  drawControls();
  if (view.shown) drawReport(view.shown.report, view.shown.by);
}

export function wireReports() {
  $("#report-by").replaceChildren(...Object.keys(BREAKDOWNS).map((by) =>
    h("option", { value: by, dataset: { i18n: `by_${by}` } }, t(`by_${by}`))));
  $("#reports-open").addEventListener("click", () => (reportsOpen() ? closeReports() : openReports()));
  $("#reports-back").addEventListener("click", closeReports);
  $("#reports-refresh").addEventListener("click", load);
  for (const button of document.querySelectorAll("#report-periods [data-period]")) {
    button.addEventListener("click", () => { view.period = button.dataset.period; drawControls(); load(); });
  }
  $("#report-by").addEventListener("change", (event) => { view.by = event.target.value; drawControls(); load(); });
}
