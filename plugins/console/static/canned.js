// Canned replies: search knowledge-base answers inline and drop one into the reply box.
import { get } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

let panel = null;

export function closeCanned() {
  panel?.remove();
  panel = null;
}

export function openCanned(input) {
  closeCanned();
  const search = h("input", { type: "search", class: "canned-search", placeholder: t("cannedSearch"), "aria-label": t("canned") });
  const results = h("ul", { class: "canned-results", role: "listbox" });
  panel = h("div", { class: "canned" }, search, results);
  input.closest("form").prepend(panel);
  let items = [];
  let active = 0;
  let timer = 0;

  const choose = (entry) => {
    input.value = input.value.trim() ? `${input.value.trimEnd()}\n${entry.answer}` : entry.answer;
    closeCanned();
    input.focus();
  };
  const draw = () => {
    results.replaceChildren(...(items.length ? items.map((entry, index) => h("li", {
      role: "option", class: index === active ? "active" : "", "aria-selected": String(index === active),
      onmousedown: (event) => { event.preventDefault(); choose(entry); },
    }, h("strong", {}, entry.question), h("span", {}, entry.answer))) : [h("li", { class: "empty" }, t("noCanned"))]));
    results.querySelector(".active")?.scrollIntoView({ block: "nearest" });
  };
  const load = async () => {
    const query = search.value.trim();
    const data = await get(`/kb?q=${encodeURIComponent(query)}`).catch(() => ({ items: [] }));
    if (search.value.trim() !== query) return;
    items = data.items.slice(0, 20);
    active = 0;
    draw();
  };

  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 150); });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + items.length) % Math.max(items.length, 1);
      draw();
    } else if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      if (items[active]) choose(items[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeCanned();
      input.focus();
    }
  });
  search.focus();
  load();
}
