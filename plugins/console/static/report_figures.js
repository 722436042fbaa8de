// The report view's parts, drawn from a GET /reports answer: the overall figures, a row per
// category (tag, agent, channel or group), the trend per day and what the bot left unanswered.
import { h, $ } from "./dom.js";
import { currentLanguage, dayLabel, t } from "./i18n.js";
import { agentName } from "./state.js";

export const BREAKDOWNS = { category: "categories", tag: "tags", agent: "agents", channel: "channels", group: "groups" };
const SVG = "http://www.w3.org/2000/svg";
const NONE = "—";

export function percent(ratio) {
  if (ratio == null) return NONE;
  return new Intl.NumberFormat(currentLanguage(), { style: "percent", maximumFractionDigits: 1 }).format(ratio);
}

/* Seconds as m:ss, and as h:mm:ss from an hour on. */
export function clockTime(seconds) {
  if (seconds == null) return NONE;
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

const score = (average) => (average == null ? NONE
  : new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: 2 }).format(average));

function rating(satisfaction) {
  if (satisfaction.average == null) return NONE;
  return t("reportRatings", { avg: score(satisfaction.average), n: satisfaction.responses });
}

/* The columns every breakdown row and the overall figures share: key, label, the cell's text. */
const COLUMNS = [
  ["conversations", "reportConversations", (f) => String(f.conversations)],
  ["bot_containment", "reportContainment", (f) => percent(f.bot_containment_rate)],
  ["first_response", "reportFirstResponse", (f) => clockTime(f.first_response.avg_seconds)],
  ["handling", "reportHandling", (f) => clockTime(f.handling.avg_seconds)],
  ["satisfaction", "reportSatisfaction", (f) => rating(f.satisfaction)],
  ["reopen", "reportReopen", (f) => percent(f.reopen_rate)],
];

const empty = (colspan) => h("tr", { class: "empty-row" }, h("td", { colspan, class: "empty" }, t("noData")));

function card(key, label, value, detail) {
  return h("div", { class: "figure", dataset: { figure: key } },
    h("dt", {}, t(label)),
    h("dd", {}, h("span", { class: "value" }, value), detail ? h("span", { class: "small" }, detail) : null));
}

function drawTotal(total) {
  const p90 = (figure) => (figure.p90_seconds == null ? null : t("reportAvgP90", { p90: clockTime(figure.p90_seconds) }));
  $("#report-total").replaceChildren(
    card("conversations", "reportConversations", String(total.conversations)),
    card("handed_over", "reportHandedOver", String(total.handed_over)),
    card("bot_containment", "reportContainment", percent(total.bot_containment_rate)),
    card("first_response", "reportFirstResponse", clockTime(total.first_response.avg_seconds), p90(total.first_response)),
    card("handling", "reportHandling", clockTime(total.handling.avg_seconds), p90(total.handling)),
    card("satisfaction", "reportSatisfaction", rating(total.satisfaction)),
    card("resolution", "reportResolution", percent(total.resolution_rate)),
    card("reopen", "reportReopen", percent(total.reopen_rate)),
    card("sla_missed", "reportSla", String(total.sla_missed)));
}

/* A row's name; a category or tag row without one holds the conversations that have none. */
function rowName(entry, by) {
  if (by === "agent") return agentName(entry.agent_id) || entry.agent || `#${entry.agent_id}`;
  if (by === "channel") return `${entry.channel}/${entry.account}`;
  if (entry[by] != null) return entry[by];
  return t({ category: "reportUncategorised", tag: "reportUntagged" }[by] || "reportNone");
}

function svg(width, height, className) {
  const node = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({ viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none",
    class: className, "aria-hidden": "true" })) node.setAttribute(name, value);
  return node;
}

function rect(x, y, width, height) {
  const node = document.createElementNS(SVG, "rect");
  for (const [name, value] of Object.entries({ x, y, width, height })) node.setAttribute(name, String(value));
  return node;
}

/* Conversations per day as small upright bars, one per day of `days`. */
function spark(days, counts) {
  const most = Math.max(1, ...counts.values());
  const chart = svg(days.length * 10, 24, "spark");
  days.forEach((day, index) => {
    const tall = counts.get(day) ? Math.max(2, (counts.get(day) / most) * 24) : 0;
    chart.append(rect(index * 10 + 1.5, 24 - tall, 7, tall));
  });
  return chart;
}

/* A share of the widest bar, lying down. */
function bar(share) {
  const chart = svg(100, 10, "bar");
  chart.append(rect(0, 0, Math.max(share ? 1 : 0, share * 100), 10));
  return chart;
}

function drawBreakdown(report, by) {
  const entries = report[BREAKDOWNS[by]] || [];
  const days = (report.trend || []).map((day) => day.day);
  const withTrend = days.length > 1 && (by === "category" || by === "tag");
  const head = h("tr", {}, h("th", { scope: "col" }, t(`col_${by}`)),
    COLUMNS.map(([key, label]) => h("th", { scope: "col", dataset: { col: key } }, t(label))),
    withTrend ? h("th", { scope: "col" }, t("reportTrend")) : null);
  const rows = entries.map((entry) => h("tr", { class: "report-row" },
    h("th", { scope: "row" }, rowName(entry, by)),
    COLUMNS.map(([key, , cell]) => h("td", { dataset: { col: key } }, cell(entry))),
    withTrend ? h("td", { class: "trend" }, spark(days, new Map((entry.trend || []).map((day) => [day.day, day.conversations])))) : null));
  $("#report-table").replaceChildren(h("thead", {}, head),
    h("tbody", {}, rows.length ? rows : empty(COLUMNS.length + 1 + (withTrend ? 1 : 0))));
}

function drawTrend(trend) {
  const days = trend || [];
  const most = Math.max(1, ...days.map((day) => day.conversations));
  const rows = days.some((day) => day.conversations) ? days.map((day) => h("tr", { dataset: { day: day.day } },
    h("th", { scope: "row" }, dayLabel(day.day)),
    h("td", { class: "count" }, h("div", {}, bar(day.conversations / most), h("span", {}, String(day.conversations)))),
    h("td", {}, String(day.handed_over)),
    h("td", {}, percent(day.bot_containment_rate)),
    h("td", {}, clockTime(day.first_response_avg_seconds)),
    h("td", {}, clockTime(day.handling_avg_seconds)),
    h("td", {}, score(day.satisfaction_average)))) : [empty(7)];
  $("#report-trend").replaceChildren(
    h("thead", {}, h("tr", {}, ["reportDay", "reportConversations", "reportHandedOver", "reportContainment",
      "reportFirstResponse", "reportHandling", "reportSatisfaction"].map((label) => h("th", { scope: "col" }, t(label))))),
    h("tbody", {}, rows));
}

function drawUnanswered(report, by) {
  const section = $("#report-unanswered");
  section.hidden = by !== "category";
  if (section.hidden) return;
  const groups = report.unanswered || [];
  section.querySelector(".list").replaceChildren(...(groups.length ? groups.map((group) => h("li", {
    class: "unanswered", dataset: { category: group.category ?? "" },
  },
  h("b", {}, group.category ?? t("reportUncategorised")), " ", h("span", { class: "small" }, t("reportAsked", { n: group.count })),
  h("ol", {}, group.questions.map((question) => h("li", {}, h("span", { class: "question" }, question.text), " ",
    h("span", { class: "small" }, t("reportAsked", { n: question.count })))))))
    : [h("li", { class: "empty" }, t("noData"))]));
}

export function drawReport(report, by) {
  drawTotal(report.total);
  drawBreakdown(report, by);
  drawTrend(report.trend);
  drawUnanswered(report, by);
}
