// Conversation tags: chips with a remove button and an input to add one (open conversation), the
// same chips in the inbox, and the tag filter's suggestions.
import { api, get, post } from "./api.js";
import { h, toast } from "./dom.js";
import { t } from "./i18n.js";
import { remember, state } from "./state.js";

let suggestions = { at: 0 };

/* Tags in use, for the inputs' suggestions (read at most once a minute). */
export async function fillTagOptions() {
  if (Date.now() - suggestions.at < 60000) return;
  suggestions.at = Date.now();
  const data = await get("/tags?limit=200").catch(() => ({ items: [] }));
  const list = document.getElementById("tag-options");
  list?.replaceChildren(...data.items.map((item) => h("option", { value: item.tag })));
}

export function chip(tag, { onRemove, onPick } = {}) {
  const auto = tag.source && tag.source !== "agent";
  return h("span", { class: `chip${auto ? " auto" : ""}`, title: auto ? t("autoTag") : "", dataset: { tag: tag.tag } },
    onPick ? h("button", { type: "button", class: "chip-pick", onclick: (event) => { event.stopPropagation(); onPick(tag.tag); } }, tag.tag)
      : h("span", {}, tag.tag),
    onRemove ? h("button", { type: "button", class: "chip-remove", "aria-label": t("removeTag", { tag: tag.tag }),
      onclick: () => onRemove(tag.tag) }, "×") : null);
}

/* Tags as they are now, from the API answer or a `tags.updated` event. */
export function tagsChanged(data) {
  const known = state.conversations.get(data.conversation_id);
  if (known) remember({ ...known, tags: data.tags });
}

export function tagRow(conversation) {
  const chips = h("span", { class: "chips" });
  const input = h("input", {
    class: "tag-input", list: "tag-options", maxlength: "32", placeholder: t("addTag"), "aria-label": t("addTag"),
  });
  const node = h("div", { class: "tag-row" }, chips, input);
  const id = conversation.id;

  async function change(method, tag) {
    try {
      const data = await (method === "POST" ? post(`/conversations/${id}/tags`, { tag }) : api("DELETE", `/conversations/${id}/tags`, { tag }));
      tagsChanged(data);
      show(data.tags);
      suggestions.at = 0;
      return true;
    } catch (error) {
      toast(error.message, "error");
      return false;
    }
  }

  function show(tags) {
    chips.replaceChildren(...tags.map((tag) => chip(tag, { onRemove: (name) => change("DELETE", name) })));
  }

  input.addEventListener("focus", fillTagOptions);
  input.addEventListener("keydown", async (event) => {
    if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    const tag = input.value.trim();
    if (tag && await change("POST", tag)) input.value = "";
  });
  show(conversation.tags || []);
  return { node, show };
}
