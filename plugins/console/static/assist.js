// The language-model assistant in the open conversation: a reply draft the agent edits and sends
// (it only fills the reply box, never sends), and a short summary of the conversation. Both
// buttons stay hidden when the gateway has no model ([llm] in csgw.toml: GET /assist).
import { get, post } from "./api.js";
import { $, h, toast } from "./dom.js";
import { currentLanguage, t } from "./i18n.js";

let status = null; // the promise of GET /assist, asked once per page

function assistStatus() {
  status = status || get("/assist").catch(() => ({ enabled: false }));
  return status;
}

/* Shown once the gateway says a model is configured. */
function showWhenOn(button) {
  button.hidden = true;
  assistStatus().then((assist) => { button.hidden = !assist.enabled; });
  return button;
}

async function busy(button, label, work) {
  const idle = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    await work();
  } catch (error) {
    toast(error.message, "error");
  } finally {
    button.disabled = false;
    button.textContent = idle;
  }
}

/* Fills `input` with the model's draft for the conversation; the agent edits and sends it. */
export function draftButton(conversationId, input) {
  const button = h("button", { type: "button", class: "ghost draft-button", title: t("draftHint") }, t("draft"));
  button.addEventListener("click", () => busy(button, t("drafting"), async () => {
    const draft = await post(`/conversations/${conversationId}/draft`);
    input.value = draft.draft;
    input.focus();
    toast(draft.entries.length ? t("draftFrom", { entries: draft.entries.join(", ") }) : t("draftReady"));
  }));
  return showWhenOn(button);
}

/* Shows the model's summary of the conversation above its messages. */
export function summaryButton(conversationId) {
  const button = h("button", { type: "button", class: "summary-button", title: t("summaryHint") }, t("summary"));
  button.addEventListener("click", () => busy(button, t("summarising"), async () => {
    const summary = await post(`/conversations/${conversationId}/summary`, { language: currentLanguage() });
    const messages = $("#conversation .messages");
    $("#conversation .assist-summary")?.remove();
    const panel = h("div", { class: "assist-summary", role: "note" },
      h("strong", {}, t("summaryTitle")), h("p", {}, summary.summary),
      h("button", { type: "button", class: "ghost", "aria-label": t("closeDialog"), onclick: () => panel.remove() }, "×"));
    messages?.before(panel);
  }));
  return showWhenOn(button);
}
