// Supervisors' view of canned replies: the list, and a form to create, change or delete one.
import { api, get, post } from "./api.js";
import { forgetCanned } from "./canned.js";
import { h, $, toast } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./state.js";

let replies = [];

function showError(message) {
  const box = $("#canned-error");
  box.hidden = !message;
  box.textContent = message || "";
}

function edit(reply) {
  const form = $("#canned-form");
  form.reset();
  showError(null);
  form.id.value = reply?.id ?? "";
  form.title.value = reply?.title ?? "";
  form.shortcut.value = reply?.shortcut ?? "/";
  form.group.value = reply?.group ?? "";
  form.text.value = reply?.text ?? "";
  $("#canned-delete").hidden = !reply;
  for (const item of document.querySelectorAll("#canned-admin-list li")) {
    item.classList.toggle("selected", Number(item.dataset.id) === reply?.id);
  }
  form.title.focus();
}

function drawList() {
  $("#canned-admin-list").replaceChildren(...(replies.length ? replies.map((reply) => h("li", { dataset: { id: reply.id } },
    h("button", { type: "button", class: "ghost canned-admin-item", onclick: () => edit(reply) },
      h("b", {}, reply.shortcut), " ", reply.title, " ", h("span", { class: "canned-group" }, reply.group || t("shared")))))
    : [h("li", { class: "empty" }, t("noCanned"))]));
}

function drawVariables(names) {
  $(".canned-form .variables").replaceChildren(h("span", { class: "small" }, t("cannedVars")), ...names.map((name) => h("button", {
    type: "button", class: "ghost variable", dataset: { name }, onclick: () => insertVariable(name),
  }, `{${name}} ${t(`var_${name}`)}`)));
}

async function reload(selectId) {
  const data = await get("/canned");
  replies = data.items;
  drawVariables(data.variables);
  forgetCanned();
  drawList();
  edit(replies.find((reply) => reply.id === selectId) || null);
}

/* Put `{name}` where the text's caret is. */
function insertVariable(name) {
  const text = $("#canned-form").text;
  const at = text.selectionStart ?? text.value.length;
  text.setRangeText(`{${name}}`, at, text.selectionEnd ?? at, "end");
  text.focus();
}

async function save(event) {
  event.preventDefault();
  const form = $("#canned-form");
  const body = {
    title: form.title.value, shortcut: form.shortcut.value, text: form.text.value,
    group: form.group.value.trim() || null,
  };
  try {
    const saved = form.id.value ? await api("PUT", `/canned/${form.id.value}`, body) : await post("/canned", body);
    await reload(saved.id);
    toast(t("saved"));
  } catch (error) {
    showError(error.message);
  }
}

async function remove() {
  const form = $("#canned-form");
  const reply = replies.find((item) => item.id === Number(form.id.value));
  if (!reply || !window.confirm(t("confirmDelete", { title: reply.title }))) return;
  try {
    await api("DELETE", `/canned/${reply.id}`);
    await reload(null);
  } catch (error) {
    showError(error.message);
  }
}

export async function openCannedAdmin() {
  const groups = new Set([...state.agents.values()].flatMap((agent) => agent.skills || []));
  $("#group-options").replaceChildren(...[...groups].map((group) => h("option", { value: group })));
  try {
    await reload(null);
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  $("#canned-dialog").showModal();
  $("#canned-form").title.focus();
}

export function wireCannedAdmin() {
  $("#canned-form").addEventListener("submit", save);
  $("#canned-new").addEventListener("click", () => edit(null));
  $("#canned-delete").addEventListener("click", remove);
  $("#canned-close").addEventListener("click", () => $("#canned-dialog").close());
}
