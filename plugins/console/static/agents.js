// Supervisors' view of the team: each agent's status, load and groups, and a one-time login link
// to hand to an agent (who opens it to sign in; their API token stays as it is).
import { get, post } from "./api.js";
import { h, $, toast } from "./dom.js";
import { t, clock } from "./i18n.js";
import { state } from "./state.js";

function row(agent) {
  const groups = (agent.skills || []).join(", ");
  return h("li", { class: "agent-row", dataset: { id: agent.id } },
    h("span", { class: `dot st-${agent.status}`, title: t(agent.status) }),
    h("span", { class: "agent-who" },
      h("b", {}, agent.display_name || agent.name), " ",
      h("span", { class: "small" }, `${agent.name} · ${t(`role_${agent.role}`)} · ${t(agent.status)} · `
        + t("load", { load: agent.load, max: agent.max_concurrent }) + (groups ? ` · ${groups}` : ""))),
    h("button", { type: "button", class: "login-link", onclick: () => makeLink(agent) }, t("loginLink")));
}

function draw(agents) {
  $("#agents-list").replaceChildren(...agents.map(row));
}

/* Hide the link shown before: it was for someone else, or it is spent. */
function hideLink() {
  const box = $("#agent-link");
  box.hidden = true;
  box.querySelector("input").value = "";
}

async function makeLink(agent) {
  hideLink();
  let made;
  try {
    made = await post(`/agents/${agent.id}/login-link`, {});
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  // The supervisor reaches the console at this address, so the agent will too.
  const url = new URL(`/console/#login=${made.code}`, location.origin).href;
  const box = $("#agent-link");
  box.hidden = false;
  box.querySelector(".for").textContent = t("loginLinkFor", { name: agent.display_name || agent.name });
  box.querySelector("input").value = url;
  box.querySelector(".hint").textContent = t("loginLinkHint", { time: clock(made.expires_at) });
  box.querySelector("input").select();
}

async function copyLink() {
  const input = $("#agent-link input");
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    toast(t("copied"));
  } catch {
    // No clipboard (plain http on another host): the link stays selected for Ctrl+C.
  }
}

export async function openAgents() {
  hideLink();
  try {
    const agents = await get("/agents");
    for (const agent of agents.items) state.agents.set(agent.id, agent);
    draw(agents.items);
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  $("#agents-dialog").showModal();
}

/* An agent's status or load changed while the view is open. */
export function agentChanged() {
  if ($("#agents-dialog").open) draw([...state.agents.values()].sort((a, b) => a.id - b.id));
}

export function wireAgents() {
  $("#agents-manage").addEventListener("click", openAgents);
  $("#agent-link .copy").addEventListener("click", copyLink);
  $("#agents-close").addEventListener("click", () => $("#agents-dialog").close());
}
