// The inbox: three lists (mine, my groups' queue, all open) with counts, waiting time and unread.
import { h, $ } from "./dom.js";
import { t, clock, duration, stateName } from "./i18n.js";
import { state, listed, unreadOf } from "./state.js";

export function customerLabel(conversation) {
  return conversation.customer_name || `${t("customer")} ${conversation.customer_id}`;
}

function preview(conversation) {
  const last = conversation.last_message;
  if (!last) return "";
  const who = last.sender === "customer" ? "" : `${t(last.sender)}: `;
  return who + (last.kind === "image" ? "[image]" : last.text || "");
}

function item(conversation) {
  const unread = unreadOf(conversation);
  const waiting = conversation.state !== "assigned" && conversation.state !== "closed" && conversation.waiting_since;
  const selected = conversation.id === state.currentId;
  return h("li", {
    class: `conv-item${selected ? " selected" : ""}${unread ? " has-unread" : ""}`,
    role: "option", "aria-selected": String(selected), tabindex: "-1",
    dataset: { id: conversation.id },
  },
  h("div", { class: "line" },
    h("span", { class: "who" }, customerLabel(conversation)),
    conversation.priority > 0 ? h("span", { class: "prio", title: t("priority", { n: conversation.priority }) }, `P${conversation.priority}`) : null,
    h("span", { class: "when" }, clock(conversation.last_message?.created_at || conversation.opened_at))),
  h("div", { class: "line" },
    h("span", { class: "preview" }, preview(conversation)),
    unread ? h("b", { class: "unread", "aria-label": `${unread}` }, String(unread)) : null),
  h("div", { class: "line small" },
    h("span", { class: "chan" }, `${conversation.channel}/${conversation.account}`),
    h("span", { class: `state s-${conversation.state}` }, stateName(conversation.state)),
    conversation.group ? h("span", { class: "group" }, conversation.group) : null,
    waiting ? h("span", { class: "waiting" }, t("waiting", { time: duration(Date.now() - Date.parse(conversation.waiting_since)) })) : null));
}

export function renderInbox() {
  for (const button of document.querySelectorAll(".tabs [data-tab]")) {
    const tab = button.dataset.tab;
    const items = listed(tab);
    const unread = items.reduce((sum, c) => sum + unreadOf(c), 0);
    button.setAttribute("aria-selected", String(tab === state.tab));
    button.querySelector(".count").textContent = items.length ? (unread ? `${items.length} · ${unread}` : String(items.length)) : "";
  }
  const items = listed(state.tab);
  const list = $("#conversation-list");
  list.replaceChildren(...(items.length ? items.map((c) => item(c)) : [h("li", { class: "empty" }, t("empty"))]));
}

/* The id that is `step` away from the open one in the current list (for j/k). */
export function neighbour(step) {
  const ids = listed(state.tab).map((c) => c.id);
  if (!ids.length) return null;
  const at = ids.indexOf(state.currentId);
  if (at === -1) return ids[0];
  return ids[Math.min(ids.length - 1, Math.max(0, at + step))];
}
