// Incidents: a banner over the desk while many customers ask about one thing at once, with the count
// and some of their questions, kept live by the event socket. Supervisors publish the broadcast
// answer and close the incident from the banner.
import { get, post } from "./api.js";
import { h, $, toast } from "./dom.js";
import { t, clock } from "./i18n.js";
import { state } from "./state.js";

const open = new Map(); // id -> the incident's view, open ones only

/* All open incidents, again (at sign-in and after the socket was down); none without the plugin. */
export async function loadIncidents() {
  let items = [];
  try {
    items = (await get("/incidents?state=open&limit=20")).items;
  } catch {
    // incidents not installed (404) or not running: no banner
  }
  open.clear();
  for (const incident of items) open.set(incident.id, incident);
  drawIncidents();
}

/* An incident.opened / .updated / .closed event. */
export function incidentChanged(incident) {
  if (incident.state === "open") open.set(incident.id, incident);
  else open.delete(incident.id);
  drawIncidents();
}

function what(incident) {
  return t(`incidentKind_${incident.kind}`, { key: incident.key });
}

async function publish(event, incident) {
  event.preventDefault();
  const form = event.target;
  const text = form.elements.text.value.trim();
  if (!text) return;
  try {
    const done = await post(`/incidents/${incident.id}/broadcast`,
      { text, notify_waiting: form.elements.notify.checked });
    document.activeElement?.blur(); // done with the form: the whole banner is drawn again
    incidentChanged(done.incident);
    toast(t("broadcastSent", { n: done.notified }));
  } catch (error) {
    toast(error.message, "error");
  }
}

async function close(incident) {
  if (!confirm(t("confirmCloseIncident"))) return;
  try {
    incidentChanged(await post(`/incidents/${incident.id}/close`));
  } catch (error) {
    toast(error.message, "error");
  }
}

function actions(incident) {
  return h("form", { class: "incident-actions", onsubmit: (event) => publish(event, incident) },
    h("textarea", { name: "text", rows: 2, maxlength: 1000, required: true, "aria-label": t("broadcast"),
      placeholder: t("broadcastPlaceholder") }, incident.broadcast || ""),
    h("label", { class: "small" }, h("input", { type: "checkbox", name: "notify" }), " ", t("notifyWaiting")),
    h("button", { type: "submit", class: "primary" }, t("publishBroadcast")),
    h("button", { type: "button", class: "danger", onclick: () => close(incident) }, t("closeIncident")));
}

function banner(incident) {
  return h("section", { class: "incident", role: "alert", dataset: { id: incident.id } },
    h("div", { class: "incident-head" },
      h("b", {}, t("incidentTitle", { title: incident.title || incident.key })),
      h("span", { class: "incident-count" }, t("incidentCount", { n: incident.customers })),
      h("span", { class: "small" }, `${what(incident)} · ${t("incidentSince", { time: clock(incident.opened_at) })}`)),
    h("ul", { class: "incident-examples" }, incident.examples.map((example) => h("li", {}, example))),
    incident.broadcast ? h("p", { class: "incident-broadcast" }, t("broadcastLive", { text: incident.broadcast })) : null,
    state.me?.role === "supervisor" ? actions(incident) : null);
}

/* A banner being typed in keeps its form (only its count is redrawn): a supervisor's half-typed
   broadcast survives the events that keep coming. */
export function drawIncidents() {
  const box = $("#incidents");
  for (const incident of [...open.values()].sort((a, b) => a.id - b.id)) {
    const current = box.querySelector(`.incident[data-id="${incident.id}"]`);
    const drawn = banner(incident);
    if (!current) box.append(drawn);
    else if (!current.contains(document.activeElement)) current.replaceWith(drawn);
    else current.querySelector(".incident-head").replaceWith(drawn.querySelector(".incident-head"));
  }
  for (const stale of box.querySelectorAll(".incident")) {
    if (!open.has(Number(stale.dataset.id))) stale.remove();
  }
  box.hidden = open.size === 0;
}
