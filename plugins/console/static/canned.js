// Canned replies in the composer: "/" at the start of the reply box, or Ctrl+K, opens a picker
// filtered as you type; Enter puts the reply, filled in for this conversation, into the box to
// edit. Nothing is ever sent from here.
import { get } from "./api.js";
import { h, toast } from "./dom.js";
import { t } from "./i18n.js";

const FRESH_MS = 30000; // the list is read again after this long (supervisors may have changed it)
const SHOWN = 20;
let cache = { at: 0, items: [] };
let picker = null; // { panel, list, input, mode: "slash" | "search", search, items, active, conversationId }

export function forgetCanned() {
  cache = { at: 0, items: [] };
}

async function cannedReplies() {
  if (Date.now() - cache.at > FRESH_MS) {
    const data = await get("/canned");
    cache = { at: Date.now(), items: data.items };
  }
  return cache.items;
}

/* Shortcut matches first, then title, then text; the query's words must all appear. */
function ranked(items, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const scored = [];
  for (const item of items) {
    const shortcut = item.shortcut.slice(1).toLowerCase();
    const title = item.title.toLowerCase();
    const all = `${shortcut} ${title} ${item.text.toLowerCase()}`;
    if (!words.every((word) => all.includes(word))) continue;
    const first = words[0] || "";
    const rank = shortcut.startsWith(first) ? 0 : title.includes(first) || shortcut.includes(first) ? 1 : 2;
    scored.push([rank, item]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].shortcut.localeCompare(b[1].shortcut));
  return scored.slice(0, SHOWN).map(([, item]) => item);
}

export function closeCanned() {
  picker?.panel.remove();
  picker = null;
}

export const cannedOpen = () => picker !== null;

function draw() {
  const { list, items, active } = picker;
  list.replaceChildren(...(items.length ? items.map((item, index) => h("li", {
    role: "option", class: `canned-item${index === active ? " active" : ""}`, "aria-selected": String(index === active),
    dataset: { id: item.id },
    onmousedown: (event) => { event.preventDefault(); choose(item); },
  }, h("span", { class: "canned-head" }, h("b", { class: "shortcut" }, item.shortcut), h("span", { class: "title" }, item.title),
    h("span", { class: "canned-group" }, item.group || t("shared"))),
  h("span", { class: "canned-text" }, item.text))) : [h("li", { class: "empty" }, t("noCanned"))]));
  list.querySelector(".active")?.scrollIntoView({ block: "nearest" });
}

async function filter(query) {
  const current = picker;
  const items = await cannedReplies().catch((error) => { toast(error.message, "error"); return []; });
  if (picker !== current) return;
  picker.items = ranked(items, query);
  picker.active = 0;
  draw();
}

async function choose(item) {
  const { input, mode, conversationId } = picker;
  closeCanned();
  let rendered;
  try {
    rendered = await get(`/canned/${item.id}/render?conversation_id=${conversationId}`);
  } catch (error) {
    toast(error.message, "error");
    input.focus();
    return;
  }
  const before = mode === "slash" ? "" : input.value.slice(0, input.selectionStart);
  const after = mode === "slash" ? "" : input.value.slice(input.selectionEnd);
  input.value = before + rendered.text + after;
  input.focus();
  input.setSelectionRange(before.length + rendered.text.length, before.length + rendered.text.length);
  if (rendered.missing.length) {
    toast(t("cannedMissing", { names: rendered.missing.map((name) => t(`var_${name}`)).join("、") }), "warn");
  }
}

function open(input, conversationId, mode) {
  closeCanned();
  const list = h("ul", { class: "canned-results", role: "listbox", "aria-label": t("canned") });
  const search = mode === "search"
    ? h("input", { type: "search", class: "canned-search", placeholder: t("cannedSearch"), "aria-label": t("cannedSearch") })
    : null;
  const panel = h("div", { class: "canned" }, search, list, h("p", { class: "canned-hint small" }, t("cannedKeys")));
  input.closest("form").prepend(panel);
  picker = { panel, list, input, mode, search, items: [], active: 0, conversationId };
  if (search) {
    search.addEventListener("input", () => filter(search.value.trim()));
    search.addEventListener("keydown", (event) => steer(event, true));
    search.focus();
  }
  filter(mode === "slash" ? input.value.slice(1) : "");
}

/* Arrow keys move, Enter or Tab takes, Escape closes; true when the key was the picker's. */
function steer(event, inSearch) {
  if (!picker || event.isComposing || event.keyCode === 229) return false;
  const { items } = picker;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    picker.active = (picker.active + (event.key === "ArrowDown" ? 1 : -1) + items.length) % Math.max(items.length, 1);
    draw();
  } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && items[picker.active]) {
    choose(items[picker.active]);
  } else if (event.key === "Escape") {
    const input = picker.input;
    closeCanned();
    if (inSearch) input.focus();
  } else {
    return false;
  }
  event.preventDefault();
  event.stopImmediatePropagation();
  return true;
}

/* Wire the picker to a reply box; `enabled()` says whether the box is in reply mode now. */
export function attachCanned(input, conversationId, enabled) {
  input.addEventListener("input", () => {
    const slash = enabled() && /^\/[^\s/]*$/.test(input.value);
    if (slash && picker?.mode === "slash") filter(input.value.slice(1));
    else if (slash) open(input, conversationId, "slash");
    else if (picker?.mode === "slash") closeCanned();
  });
  // Capture: the picker sees Enter before the reply box would send.
  input.addEventListener("keydown", (event) => {
    if (picker?.mode === "slash" && steer(event, false)) return;
    if (event.key === "k" && (event.ctrlKey || event.metaKey) && enabled()) {
      event.preventDefault();
      event.stopImmediatePropagation();
      open(input, conversationId, "search");
    }
  }, { capture: true });
  // Items are taken on mousedown (which keeps the focus here): leaving the box closes the picker.
  input.addEventListener("blur", () => { if (picker?.mode === "slash") closeCanned(); });
}

export const openCannedSearch = (input, conversationId) => open(input, conversationId, "search");
