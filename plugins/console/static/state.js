// What the console knows: the agent, the team, conversations by id, unread counts, the open one.
export const state = {
  me: null,
  agents: new Map(),
  conversations: new Map(),
  tab: sessionStorage.getItem("csgw_tab") || "mine",
  currentId: null,
  unread: JSON.parse(sessionStorage.getItem("csgw_unread") || "{}"),
  typing: new Map(),
  tagFilter: null, // { tag, ids }: conversations with this tag, any state, instead of the tabs
};

export function setUnread(id, count) {
  if (count) state.unread[id] = count;
  else delete state.unread[id];
  sessionStorage.setItem("csgw_unread", JSON.stringify(state.unread));
}

export const unreadOf = (conversation) =>
  Math.max(conversation.unread || 0, state.unread[conversation.id] || 0);

/* A queued conversation is for me when it has no group, or a group I have as a skill. */
export function inMyGroups(conversation) {
  const skills = state.me?.skills || state.me?.groups || [];
  return !conversation.group || skills.length === 0 || skills.includes(conversation.group);
}

export const LISTS = {
  mine: (c) => c.state === "assigned" && c.agent_id === state.me.id,
  queue: (c) => c.state === "queued" && inMyGroups(c),
  all: (c) => c.state !== "closed",
};

const stamp = (iso) => (iso ? Date.parse(iso) : 0);
const activity = (c) => stamp(c.last_message_at || c.last_message?.created_at || c.opened_at);

/* What the inbox shows now: the tag filter's conversations, or the tab's. */
export function shown() {
  if (!state.tagFilter) return listed(state.tab);
  return state.tagFilter.ids.map((id) => state.conversations.get(id)).filter(Boolean);
}

/* The queue is served by priority, then oldest waiting first; other lists by newest activity. */
export function listed(tab) {
  const items = [...state.conversations.values()].filter(LISTS[tab]);
  if (tab === "queue") {
    return items.sort((a, b) => (b.priority || 0) - (a.priority || 0)
      || stamp(a.waiting_since || a.opened_at) - stamp(b.waiting_since || b.opened_at) || a.id - b.id);
  }
  return items.sort((a, b) => activity(b) - activity(a) || b.id - a.id);
}

/* Merge a conversation view in; events carry neither last_message nor the customer's name, so
   keep what we had. */
export function remember(conversation) {
  const known = state.conversations.get(conversation.id) || {};
  const merged = { ...known, ...conversation };
  if (!conversation.last_message && known.last_message) merged.last_message = known.last_message;
  if (!conversation.customer_name && known.customer_name) merged.customer_name = known.customer_name;
  state.conversations.set(conversation.id, merged);
  return merged;
}

/* An agent by name, never by id. */
export function agentName(id) {
  const agent = state.agents.get(id);
  return agent ? agent.display_name || agent.name : "";
}
