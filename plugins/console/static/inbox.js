// The inbox: three lists (mine, my groups' queue, all open) with counts, waiting time and unread;
// or, with a tag filter, every conversation carrying the tag.
import { get } from "./api.js";
import { h, $, toast } from "./dom.js";
import { t, clock, duration, fullTime, stateName } from "./i18n.js";
import { agentName, remember, shown, state, listed, unreadOf } from "./state.js";
import { chip } from "./tags.js";

const CHIPS = 3;

/* The customer's name (or the nickname their channel gave); a visitor who gave neither is
   numbered, so two of them can still be told apart. */
export function customerLabel(conversation) {
  return conversation.customer_name || `${t("visitor")} ${conversation.customer_id}`;
}

const named = new Set(); // conversations whose name was asked for

/* Conversations learnt from events come without the customer's name: fetch it once. */
export async function fetchName(conversation) {
  if (conversation.customer_name || named.has(conversation.id)) return;
  named.add(conversation.id);
  const fetched = await get(`/conversations/${conversation.id}`).catch(() => null);
  if (fetched?.customer_name) {
    remember({ id: conversation.id, customer_name: fetched.customer_name });
    renderInbox();
  }
}

function preview(conversation) {
  const last = conversation.last_message;
  if (!last) return "";
  const who = last.sender === "customer" ? "" : `${t(last.sender)}: `;
  return who + (last.kind === "image" ? "[image]" : last.text || "");
}

function item(conversation) {
  const unread = unreadOf(conversation);
  const when = conversation.last_message?.created_at || conversation.opened_at;
  const waiting = conversation.state !== "assigned" && conversation.state !== "closed" && conversation.waiting_since;
  const selected = conversation.id === state.currentId;
  const agent = conversation.state === "assigned" && conversation.agent_id !== state.me.id ? agentName(conversation.agent_id) : "";
  return h("li", {
    class: `conv-item${selected ? " selected" : ""}${unread ? " has-unread" : ""}`,
    role: "option", "aria-selected": String(selected), tabindex: "-1",
    dataset: { id: conversation.id },
  },
  h("div", { class: "line" },
    h("span", { class: "who" }, customerLabel(conversation)),
    conversation.priority > 0 ? h("span", { class: "prio", title: t("priority", { n: conversation.priority }) }, `P${conversation.priority}`) : null,
    h("time", { class: "when", title: fullTime(when) }, clock(when))),
  h("div", { class: "line" },
    h("span", { class: "preview" }, preview(conversation)),
    unread ? h("b", { class: "unread", "aria-label": `${unread}` }, String(unread)) : null),
  h("div", { class: "line small" },
    h("span", { class: "chan" }, `${conversation.channel}/${conversation.account}`),
    h("span", { class: `state s-${conversation.state}` }, stateName(conversation.state)),
    conversation.group ? h("span", { class: "group" }, conversation.group) : null,
    agent ? h("span", { class: "agent-name" }, agent) : null,
    waiting ? h("span", { class: "waiting" }, t("waiting", { time: duration(Date.now() - Date.parse(conversation.waiting_since)) })) : null),
  tagLine(conversation.tags || []));
}

function tagLine(tags) {
  if (!tags.length) return null;
  const more = tags.length - CHIPS;
  return h("div", { class: "line chips" }, tags.slice(0, CHIPS).map((tag) => chip(tag, { onPick: filterByTag })),
    more > 0 ? h("span", { class: "small" }, `+${more}`) : null);
}

/* Show every conversation (any state) with `tag`; null goes back to the tabs. */
export async function filterByTag(tag) {
  const wanted = tag?.trim() || null;
  $("#tag-filter").value = wanted || "";
  if (!wanted) {
    state.tagFilter = null;
    renderInbox();
    return;
  }
  try {
    const data = await get(`/conversations?tag=${encodeURIComponent(wanted)}&limit=200`);
    for (const conversation of data.items) remember(conversation);
    state.tagFilter = { tag: wanted, ids: data.items.map((c) => c.id) };
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  renderInbox();
}

/* A tag came on or off somewhere: the filtered list may have changed. */
export function refreshTagFilter() {
  if (state.tagFilter) filterByTag(state.tagFilter.tag);
}

export function renderInbox() {
  for (const button of document.querySelectorAll(".tabs [data-tab]")) {
    const tab = button.dataset.tab;
    const items = listed(tab);
    const unread = items.reduce((sum, c) => sum + unreadOf(c), 0);
    button.setAttribute("aria-selected", String(tab === state.tab && !state.tagFilter));
    button.querySelector(".count").textContent = items.length ? (unread ? `${items.length} · ${unread}` : String(items.length)) : "";
  }
  const filtered = $("#filtered");
  filtered.hidden = !state.tagFilter;
  filtered.querySelector(".what").textContent = state.tagFilter ? t("filteredBy", { tag: state.tagFilter.tag, n: state.tagFilter.ids.length }) : "";
  const items = shown();
  const list = $("#conversation-list");
  list.replaceChildren(...(items.length ? items.map((c) => item(c)) : [h("li", { class: "empty" }, t("empty"))]));
}

/* The id that is `step` away from the open one in the current list (for j/k). */
export function neighbour(step) {
  const ids = shown().map((c) => c.id);
  if (!ids.length) return null;
  const at = ids.indexOf(state.currentId);
  if (at === -1) return ids[0];
  return ids[Math.min(ids.length - 1, Math.max(0, at + step))];
}
