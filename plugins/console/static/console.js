// The agent console: sign-in (a login link or an API token), inbox and conversation wiring, live events.
import { clearToken, get, api, signIn, signOut, token, whenUnauthorized } from "./api.js";
import { agentChanged, wireAgents } from "./agents.js";
import { openCannedAdmin, wireCannedAdmin } from "./canned_admin.js";
import { addMessage, catchUp, openConversation, refreshConversation, showTyping, startNote } from "./conversation.js";
import { connectEvents } from "./events.js";
import { h, $, toast } from "./dom.js";
import { LANGUAGES, currentLanguage, setLanguage, setTimeZone, t, translatePage } from "./i18n.js";
import { customerLabel, fetchName, filterByTag, refreshTagFilter, renderInbox } from "./inbox.js";
import { drawIncidents, incidentChanged, loadIncidents } from "./incidents.js";
import { installShortcuts } from "./keys.js";
import { askPermission, notify } from "./notify.js";
import { closeReports, redrawReports, wireReports } from "./reports.js";
import { state, remember, setUnread } from "./state.js";
import { fillTagOptions, tagsChanged } from "./tags.js";

let events = null;
let ticker = 0;
let drawQueued = false;
const LOGIN_LINK = /^#login=([A-Za-z0-9_-]{1,128})$/;
const REFUSALS = { bad_code: "badCode", code_used: "codeUsed", code_expired: "codeExpired", rate_limited: "rateLimited" };

/* Many events can arrive at once; draw the inbox once per frame. */
function redraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; renderInbox(); });
}

function fillLanguages(select) {
  select.replaceChildren(...Object.entries(LANGUAGES).map(([value, label]) =>
    h("option", { value, selected: value === currentLanguage() }, label)));
  select.addEventListener("change", () => {
    setLanguage(select.value);
    for (const other of document.querySelectorAll("select.lang")) other.value = select.value;
    $("#help-text").textContent = t("help");
    if (state.me) { renderInbox(); refreshConversation(); redrawReports(); drawIncidents(); }
  });
}

function showSignin(message) {
  events?.stop();
  closeReports();
  clearInterval(ticker);
  $("#app").hidden = true;
  $("#signin").hidden = false;
  const error = $("#signin-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("#token-input").focus();
}

async function loadConversations() {
  const lists = await Promise.all([
    get("/conversations?agent=me&state=assigned&limit=200"),
    get("/conversations?state=queued&limit=200"),
    get("/conversations?state=open&limit=200"),
  ]);
  state.conversations.clear();
  for (const list of lists) for (const conversation of list.items) remember(conversation);
  renderInbox();
}

async function loadAgents() {
  const agents = await get("/agents");
  state.agents = new Map(agents.items.map((agent) => [agent.id, agent]));
}

function showMe() {
  $("#me-name").textContent = state.me.display_name || state.me.name;
  $("#status").value = state.me.status;
  $("#status").className = `status-select st-${state.me.status}`;
  const supervisor = state.me.role === "supervisor";
  $("#canned-manage").hidden = !supervisor;
  $("#agents-manage").hidden = !supervisor;
  $("#reports-open").hidden = !supervisor;
  if (!supervisor) closeReports();
  drawIncidents(); // a supervisor's banner has the broadcast form
}

async function setStatus(status) {
  try {
    state.me = { ...state.me, ...(await api("PUT", "/me/status", { status })) };
    showMe();
  } catch (error) {
    toast(error.message, "error");
  }
}

function isNewAssignment(before, after) {
  const mineNow = after.state === "assigned" && after.agent_id === state.me.id;
  const mineBefore = before && before.state === "assigned" && before.agent_id === state.me.id;
  return mineNow && !mineBefore && after.change !== "taken";
}

async function onEvent(event) {
  const data = event.data || {};
  if (event.type === "message.created") {
    const id = data.conversation_id;
    const known = state.conversations.get(id);
    if (known) remember({ ...known, last_message: data, last_message_at: data.created_at });
    else {
      const fetched = await get(`/conversations/${id}`).catch(() => ({ id, state: "bot", last_message: data }));
      // Events handled while the fetch was under way (e.g. the assignment) are newer: they win.
      const meanwhile = state.conversations.get(id);
      remember(meanwhile ? { ...fetched, ...meanwhile } : fetched);
    }
    if (id === state.currentId) addMessage(data);
    else if (data.sender === "customer") setUnread(id, (state.unread[id] || 0) + 1);
    redraw();
  } else if (event.type === "conversation.updated") {
    const before = state.conversations.get(data.id);
    const after = remember(data);
    fetchName(after);
    if (isNewAssignment(before, data)) {
      toast(t("newAssigned", { name: customerLabel(after) }));
      notify(t("newAssigned", { name: customerLabel(after) }), after.last_message?.text || "", () => open(after.id));
    }
    if (after.id === state.currentId) refreshConversation();
    redraw();
  } else if (event.type === "note.created") {
    if (data.conversation_id === state.currentId) addMessage(data);
  } else if (event.type === "tags.updated") {
    tagsChanged(data);
    if (data.conversation_id === state.currentId) refreshConversation();
    refreshTagFilter();
    redraw();
  } else if (event.type === "agent.updated") {
    state.agents.set(data.id, data);
    if (data.id === state.me.id) { state.me = { ...state.me, ...data }; showMe(); }
    agentChanged();
    redraw();
  } else if (event.type.startsWith("incident.")) {
    incidentChanged(data);
  } else if (event.type === "conversation.typing" && data.conversation_id === state.currentId) {
    showTyping(true);
  }
}

function onLive(status) {
  const live = $("#live");
  live.textContent = status === "down" ? t("reconnecting") : t("live");
  live.className = `live ${status === "down" ? "down" : "up"}`;
  if (status === "resumed") {
    loadConversations().then(refreshTagFilter).catch(() => {});
    loadIncidents();
    catchUp();
  }
}

function open(id) {
  if (!id) return;
  closeReports();
  if (location.hash !== `#${id}`) history.replaceState(null, "", `#${id}`);
  openConversation(id);
}

function switchTab(tab) {
  state.tab = tab;
  sessionStorage.setItem("csgw_tab", tab);
  if (state.tagFilter) filterByTag(null);
  else renderInbox();
}

async function enter() {
  state.me = await get("/me");
  setTimeZone(state.me.timezone);
  $("#signin").hidden = true;
  $("#app").hidden = false;
  showMe();
  await Promise.all([loadAgents(), loadConversations(), loadIncidents()]);
  events?.stop();
  events = connectEvents({ onEvent, onState: onLive });
  clearInterval(ticker);
  // Waiting times in the queue grow while nothing happens.
  ticker = setInterval(renderInbox, 30000);
  const fromHash = Number(location.hash.slice(1));
  if (fromHash) open(fromHash);
}

/* A login link's code in the address (#login=CODE), or null. */
function linkCode() {
  return location.hash.match(LOGIN_LINK)?.[1] || null;
}

/* Sign in with a login link's code or an API token, then show the desk; a refusal shows the
   sign-in form with why. The code is spent either way: it leaves the address at once. */
async function signInWith(body) {
  if (body.code) history.replaceState(null, "", location.pathname + location.search);
  try {
    if (token()) await signOut(); // this tab's earlier session, if any
    await signIn(body);
    await enter();
    return true;
  } catch (error) {
    clearToken();
    const key = REFUSALS[error.code] || (error.status === 401 ? "badToken" : null);
    showSignin(key ? t(key) : error.message);
    return false;
  }
}

function wire() {
  fillLanguages($("#signin-lang"));
  fillLanguages($("#lang"));
  $("#help-text").textContent = t("help");
  $("#signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    askPermission();
    if (await signInWith({ token: $("#token-input").value.trim() })) $("#token-input").value = "";
  });
  $("#signout").addEventListener("click", () => { signOut(); state.me = null; showSignin(); });
  $("#status").addEventListener("change", (event) => setStatus(event.target.value));
  $("#help-button").addEventListener("click", () => $("#help-dialog").showModal());
  $("#canned-manage").addEventListener("click", openCannedAdmin);
  wireCannedAdmin();
  wireAgents();
  wireReports();
  $("#tag-filter").addEventListener("focus", fillTagOptions);
  $("#tag-filter-form").addEventListener("submit", (event) => { event.preventDefault(); filterByTag($("#tag-filter").value); });
  $("#tag-filter").addEventListener("search", () => { if (!$("#tag-filter").value) filterByTag(null); });
  $("#clear-filter").addEventListener("click", () => filterByTag(null));
  for (const button of document.querySelectorAll(".tabs [data-tab]")) {
    button.addEventListener("click", () => switchTab(button.dataset.tab));
  }
  $("#conversation-list").addEventListener("click", (event) => {
    const item = event.target.closest(".conv-item");
    if (item) open(Number(item.dataset.id));
  });
  window.addEventListener("hashchange", () => {
    if (linkCode()) return void signInWith({ code: linkCode() });
    const id = Number(location.hash.slice(1));
    if (state.me && id && id !== state.currentId) open(id);
  });
  whenUnauthorized(() => { clearToken(); showSignin(t("badToken")); });
  installShortcuts({
    open, switchTab, note: startNote, help: () => $("#help-dialog").showModal(),
    toggleStatus: () => setStatus(state.me.status === "online" ? "away" : "online"),
  });
}

async function start() {
  document.documentElement.lang = currentLanguage();
  translatePage();
  wire();
  if (linkCode()) return signInWith({ code: linkCode() });
  if (!token()) return showSignin();
  try {
    await enter();
  } catch (error) {
    showSignin(error.status === 401 ? t("badToken") : error.message);
  }
}

start();
