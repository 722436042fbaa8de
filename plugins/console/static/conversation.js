// The open conversation: header with actions and tags, the customer's history across channels,
// agents' notes among the messages, the reply box (reply or note).
import { get, post } from "./api.js";
import { draftButton, summaryButton } from "./assist.js";
import { attachCanned, closeCanned, openCannedSearch } from "./canned.js";
import { h, $, linkify, safeUrl, toast } from "./dom.js";
import { t, clock, fullTime, stateName } from "./i18n.js";
import { customerLabel, renderInbox } from "./inbox.js";
import { renderProfile } from "./profile.js";
import { agentName, state, remember, setUnread } from "./state.js";
import { tagRow } from "./tags.js";

const EARLIER_LIMIT = 5;
let view = null; // { id, list, seen:Set, reply, reason, header }

export const currentConversation = () => state.conversations.get(state.currentId);

function senderLabel(message, conversation) {
  if (message.sender === "customer") return customerLabel(conversation);
  if (message.sender === "agent") return message.payload?.agent_name || t("agent");
  return t(message.sender);
}

function noteNode(message) {
  return h("div", { class: "msg note", dataset: { id: message.id } },
    h("div", { class: "by" }, `${t("noteLabel")} · ${message.payload?.agent_name || t(message.sender === "bot" ? "bot" : "agent")}`,
      h("time", { datetime: message.created_at || "", title: fullTime(message.created_at) }, clock(message.created_at))),
    h("div", { class: "bubble" }, linkify(message.text)));
}

function messageNode(message, conversation) {
  if (message.direction === "note") return noteNode(message);
  const image = message.kind === "image" ? safeUrl(message.payload?.url || message.text) : null;
  const failed = message.delivery === "failed";
  return h("div", { class: `msg from-${message.sender}${failed ? " failed" : ""}`, dataset: { id: message.id } },
    message.sender === "system" ? null : h("div", { class: "by" }, senderLabel(message, conversation),
      h("time", { datetime: message.created_at || "", title: fullTime(message.created_at) }, clock(message.created_at)),
      message.channel !== conversation.channel ? h("span", { class: "chan" }, message.channel) : null),
    h("div", { class: "bubble" }, image ? h("img", { src: image, alt: message.text || "image", loading: "lazy" }) : linkify(message.text)),
    failed ? h("div", { class: "fail" }, t("failed")) : null,
    message.sender === "bot" ? whyNode(message.payload?.why) : null);
}

/* Why the bot answered, asked back or gave up: the decision and each candidate's probability;
   the candidate's signals (similarity, lead, word overlap…) are in its tooltip. */
function whyNode(why) {
  if (!why || !why.decision) return null;
  const basis = t(why.semantic ? "whyMeaning" : "whyWords");
  const candidates = (why.candidates || []).slice(0, 3).map((c) => {
    const signals = Object.entries(c.signals || {}).map(([name, value]) => `${name} ${value}`).join("\n");
    return h("span", { class: "cand", title: signals }, `${c.entry_id} ${Math.round((c.score || 0) * 100)}%`);
  });
  return h("div", { class: "why" }, `${t("why")}: ${t("decision_" + why.decision)} · ${basis} `, ...candidates);
}

/* Why the agent cannot reply right now, or null. Channel limits arrive as a flag from the gateway. */
function blockedReason(conversation) {
  const flags = conversation.flags || {};
  const reason = flags.reply_blocked_reason || conversation.reply_blocked_reason
    || conversation.last_message?.payload?.reply_blocked_reason;
  if (reason) return t("blocked", { reason });
  if (conversation.state === "closed") return t("closed");
  if (conversation.state === "assigned" && conversation.agent_id && conversation.agent_id !== state.me.id) return t("notYours");
  return null;
}

/* The customer's rating (and comment) of the conversation, when they gave one. */
function ratingNode(conversation) {
  const score = conversation.satisfaction;
  if (!score) return h("div", { class: "rating", hidden: true });
  return h("div", { class: "rating", role: "note" },
    h("span", { class: "stars", "aria-hidden": "true" }, "★".repeat(score) + "☆".repeat(5 - score)),
    h("span", { class: "score" }, t("rating", { score })),
    conversation.satisfaction_comment
      ? h("span", { class: "comment", dataset: { label: t("ratingComment") } }, conversation.satisfaction_comment) : null);
}

function header(conversation) {
  const agent = agentName(conversation.agent_id);
  const mine = conversation.state === "assigned" && conversation.agent_id === state.me.id;
  return h("header", { class: "conv-head" },
    h("button", { type: "button", class: "ghost back", onclick: closeView, "aria-label": t("back") }, "‹"),
    h("div", { class: "conv-title" },
      h("strong", {}, customerLabel(conversation)),
      h("span", { class: "small" }, `#${conversation.id} · ${conversation.channel}/${conversation.account} · `,
        h("span", { class: `state s-${conversation.state}` }, stateName(conversation.state)),
        agent ? ` · ${agent}` : "", conversation.group ? ` · ${conversation.group}` : "",
        conversation.priority > 0 ? ` · P${conversation.priority}` : "")),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "take", onclick: take, disabled: mine || conversation.state === "closed", title: "t" }, t("take")),
      h("button", { type: "button", class: "transfer", onclick: transfer, disabled: conversation.state === "closed", title: "f" }, t("transfer")),
      h("button", { type: "button", class: "close danger", onclick: close, disabled: conversation.state === "closed", title: "x" }, t("close")),
      summaryButton(conversation.id),
      h("button", { type: "button", class: "ghost profile-toggle", onclick: () => document.body.classList.toggle("show-profile") }, t("profile"))));
}

function modeButton(mode, box) {
  return h("button", {
    type: "button", role: "tab", class: `mode mode-${mode}`, dataset: { mode },
    onclick: () => setMode(box, mode),
  }, t(mode === "note" ? "noteMode" : "replyMode"));
}

/* The box writes to the customer ("reply") or, as an internal note, to the other agents ("note"). */
function setMode(box, mode) {
  box.mode = mode;
  closeCanned();
  box.form.classList.toggle("note-mode", mode === "note");
  for (const button of box.form.querySelectorAll(".mode")) button.setAttribute("aria-selected", String(button.dataset.mode === mode));
  box.input.placeholder = t(mode === "note" ? "notePlaceholder" : "reply");
  box.input.setAttribute("aria-label", box.input.placeholder);
  box.send.textContent = t(mode === "note" ? "addNote" : "send");
  box.canned.hidden = mode === "note";
  const conversation = currentConversation();
  if (view && conversation) applyReplyState(conversation);
  box.input.focus();
}

function replyBox(conversationId) {
  const input = h("textarea", { id: "reply", rows: "2", placeholder: t("reply"), "aria-label": t("reply"), maxlength: "8000" });
  const reason = h("p", { class: "blocked", role: "status", hidden: true });
  const canned = h("button", { type: "button", class: "ghost canned-button", title: "Ctrl+K", onclick: () => openCannedSearch(input, conversationId) }, t("canned"));
  const sendButton = h("button", { type: "submit", class: "primary send" }, t("send"));
  const box = { input, reason, canned, send: sendButton, mode: "reply" };
  const form = h("form", { class: "reply", onsubmit: (event) => { event.preventDefault(); send(); } },
    h("div", { class: "modes", role: "tablist" }, modeButton("reply", box), modeButton("note", box)),
    reason,
    h("div", { class: "reply-row" }, input,
      h("div", { class: "reply-buttons" }, canned, draftButton(conversationId, input), sendButton)));
  box.form = form;
  form.querySelector(".mode-reply").setAttribute("aria-selected", "true");
  form.querySelector(".mode-note").setAttribute("aria-selected", "false");
  attachCanned(input, conversationId, () => box.mode === "reply");
  let typingSent = 0;
  input.addEventListener("input", () => {
    // Let the customer see "typing…" where the channel can show it; at most every 3 s.
    if (box.mode === "note" || Date.now() - typingSent < 3000 || !input.value.trim() || !view) return;
    typingSent = Date.now();
    post(`/conversations/${view.id}/typing`, { on: true }).catch(() => {});
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      send();
    } else if (event.key === "Escape") {
      input.blur();
    }
  });
  return box;
}

/* A note can always be added; a reply only where the agent may answer now. */
function applyReplyState(conversation) {
  const why = view.reply.mode === "note" ? null : blockedReason(conversation);
  view.reply.reason.hidden = !why;
  view.reply.reason.textContent = why || "";
  for (const control of view.reply.form.querySelectorAll("textarea, .reply-buttons button")) control.disabled = Boolean(why);
}

/* n: write an internal note in the open conversation. */
export function startNote() {
  if (view) setMode(view.reply, "note");
}

export function refreshConversation() {
  const conversation = currentConversation();
  if (!view || !conversation) return;
  view.header.replaceWith(view.header = header(conversation));
  view.tags.show(conversation.tags || []);
  view.rating.replaceWith(view.rating = ratingNode(conversation));
  applyReplyState(conversation);
}

export function addMessage(message) {
  if (!view || message.conversation_id !== view.id || view.seen.has(message.id)) return;
  view.seen.add(message.id);
  const conversation = currentConversation();
  const node = messageNode(message, conversation);
  const later = [...view.list.querySelectorAll(".msg[data-id]")].find((other) =>
    other.closest(".current") && Number(other.dataset.id) > message.id);
  if (later) later.before(node);
  else view.current.append(node);
  if (message.sender === "customer") showTyping(false);
  scrollDown();
}

export function showTyping(on) {
  if (!view) return;
  view.typing.hidden = !on;
  clearTimeout(view.typingTimer);
  if (on) view.typingTimer = setTimeout(() => { view.typing.hidden = true; }, 6000);
}

const scrollDown = () => { view.list.scrollTop = view.list.scrollHeight; };

export async function openConversation(id) {
  state.currentId = id;
  setUnread(id, 0);
  document.body.classList.add("show-conversation");
  document.body.classList.remove("show-profile");
  const section = $("#conversation");
  const known = state.conversations.get(id);
  const conversation = remember(await get(`/conversations/${id}`).catch(() => known) || { id });
  if (state.currentId !== id) return;
  const list = h("div", { class: "messages", role: "log" });
  const current = h("div", { class: "current" });
  const typing = h("p", { class: "typing", hidden: true }, t("typing"));
  list.append(current);
  view = { id, list, current, typing, seen: new Set(), reply: replyBox(id), typingTimer: 0 };
  view.header = header(conversation);
  view.tags = tagRow(conversation);
  view.rating = ratingNode(conversation);
  section.replaceChildren(view.header, view.tags.node, view.rating, list, typing, view.reply.form);
  applyReplyState(conversation);
  renderInbox();
  const messages = await get(`/conversations/${id}/messages`).catch((error) => { toast(error.message, "error"); return { items: [] }; });
  if (state.currentId !== id) return;
  for (const message of messages.items) addMessage(message);
  if (!view.reply.input.disabled && window.matchMedia("(min-width: 761px)").matches) view.reply.input.focus();
  const customer = await get(`/customers/${conversation.customer_id}`).catch(() => null);
  if (state.currentId !== id) return;
  renderProfile(customer);
  if (customer) loadEarlier(customer, conversation);
}

/* The customer's earlier conversations, on any channel, above the current one. */
async function loadEarlier(customer, conversation) {
  const earlier = (customer.conversations || []).filter((c) => c.id < conversation.id).slice(0, EARLIER_LIMIT);
  const pages = await Promise.all(earlier.map((c) => get(`/conversations/${c.id}/messages`).catch(() => ({ items: [] }))));
  if (state.currentId !== conversation.id) return;
  const keepBottom = view.list.scrollHeight - view.list.scrollTop - view.list.clientHeight < 40;
  earlier.forEach((old, index) => {
    const block = h("div", { class: "earlier" },
      h("p", { class: "divider" }, `${t("earlier")} · ${t("conversation", { id: old.id })} · ${old.channel}/${old.account} · ${clock(old.opened_at)}`),
      pages[index].items.map((message) => messageNode(message, { ...conversation, channel: old.channel })));
    view.list.prepend(block);
  });
  if (keepBottom) scrollDown();
}

export function closeView() {
  document.body.classList.remove("show-conversation", "show-profile");
  $("#conversation-list .selected")?.focus();
}

async function send() {
  const input = view.reply.input;
  const text = input.value.trim();
  if (!text || input.disabled) return;
  const id = view.id;
  const note = view.reply.mode === "note";
  input.value = "";
  try {
    const message = await post(`/conversations/${id}/${note ? "notes" : "messages"}`, { text });
    addMessage(message);
    if (note) return;
    const conversation = state.conversations.get(id);
    if (conversation) remember({ ...conversation, last_message: message, last_message_at: message.created_at });
    renderInbox();
  } catch (error) {
    input.value = text;
    toast(error.message, "error");
  }
}

async function change(action, body) {
  try {
    const conversation = remember(await post(`/conversations/${state.currentId}/${action}`, body));
    refreshConversation();
    renderInbox();
    return conversation;
  } catch (error) {
    toast(error.message, "error");
    return null;
  }
}

export const take = () => state.currentId && change("take");

export function close() {
  if (state.currentId && window.confirm(t("confirmClose"))) change("close");
}

export async function transfer() {
  if (!state.currentId) return;
  const dialog = $("#transfer-dialog");
  const form = $("#transfer-form");
  const agents = await get("/agents").catch(() => ({ items: [] }));
  form.agent_id.replaceChildren(h("option", { value: "" }, "—"),
    ...agents.items.filter((a) => a.id !== state.me.id).map((a) =>
      h("option", { value: a.id }, `${a.display_name} (${t(a.status)}, ${a.load}/${a.max_concurrent})`)));
  const groups = new Set(agents.items.flatMap((a) => a.skills || []));
  $("#group-options").replaceChildren(...[...groups].map((g) => h("option", { value: g })));
  form.reset();
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "ok") return;
    const body = { note: form.note.value };
    if (form.agent_id.value) body.agent_id = Number(form.agent_id.value);
    else if (form.group.value.trim()) body.group = form.group.value.trim();
    else return;
    change("transfer", body);
  }, { once: true });
}

/* After the event socket was down: fetch what the open conversation missed. */
export async function catchUp() {
  if (!view) return;
  const id = view.id;
  const after = Math.max(0, ...view.seen);
  const missed = await get(`/conversations/${id}/messages?after=${after}`).catch(() => ({ items: [] }));
  for (const message of missed.items) addMessage(message);
}
