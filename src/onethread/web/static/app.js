// The inbox: header, views with counts, filters, the list, keyboard navigation, live updates.
import { api, background, el, query, when } from "./api.js";
import { Live, POLL_MS } from "./live.js";
import { Thread, contactName } from "./conversation.js";

const state = {
  me: null,
  agents: new Map(),
  teams: [],
  inboxes: new Map(),
  view: "all",
  items: [],
  cursor: -1,
  presence: new Map(), // conversation id -> [{agent_id, name, state}]
  counts: null, // GET /conversations/counts, under the current filters
};

const list = document.getElementById("conversation-list");
const filters = document.getElementById("filters");
const viewList = document.getElementById("view-list");

function views() {
  const base = [
    { key: "mine", label: "Mine", params: { assignee: "me" } },
    { key: "unassigned", label: "Unassigned", params: { assignee: "none", status: "open" } },
    { key: "ai", label: "Handled by AI", params: { handler: "ai" } },
    { key: "waiting", label: "Waiting for a human", params: { handler: "human", assignee: "none" } },
    { key: "all", label: "All", params: {} },
  ];
  const teams = state.teams.map((team) => ({
    key: `team-${team.id}`, label: team.name, params: { team: team.id },
  }));
  return [...base.slice(0, 2), ...teams, ...base.slice(2)];
}

function currentParams() {
  const view = views().find((v) => v.key === state.view) || views().at(-1);
  return { ...view.params, ...filterParams() };
}

// The list's own filters (not the view's): the counts apply them to every view at once.
function filterParams() {
  const data = Object.fromEntries(new FormData(filters));
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v));
}

function viewCount(counts, key) {
  if (key.startsWith("team-")) return counts.teams[key.slice(5)] || 0;
  return counts[key];
}

let countsAsked = 0;
async function loadCounts() {
  const asked = ++countsAsked;
  const counts = await api("GET", "/conversations/counts" + query(filterParams()));
  if (asked !== countsAsked) return; // a newer request answers for newer filters
  state.counts = counts;
  showCounts();
}

function showCounts() {
  // In place: re-rendering the links would take the keyboard focus away from them.
  if (!state.counts) return;
  for (const view of views()) {
    const badge = viewList.querySelector(`[data-view="${view.key}"] .count`);
    if (badge) badge.textContent = String(viewCount(state.counts, view.key));
  }
}

// A count reads every conversation of the workspace (about 0.2 s for 100,000 on SQLite):
// bursts of events and keystrokes coalesce into one request, at most one per COUNTS_EVERY_MS.
const COUNTS_EVERY_MS = 2000;
let countsTimer = null;
let countsLoadedAt = 0;
function countsSoon() {
  if (countsTimer) return; // the request already planned reads the filters as they are then
  const wait = Math.max(300, countsLoadedAt + COUNTS_EVERY_MS - Date.now());
  countsTimer = setTimeout(() => {
    countsTimer = null;
    countsLoadedAt = Date.now();
    background(loadCounts());
  }, wait);
}

function renderViews() {
  viewList.replaceChildren(...views().map((view) => el("li", {},
    el("a", {
      href: `#view=${view.key}`, dataset: { view: view.key },
      class: view.key === state.view ? "active" : null,
      onclick: (event) => { event.preventDefault(); state.view = view.key; renderViews(); refresh({ counts: false }); },
    }, el("span", {}, view.label), el("span", { class: "count" }, "")))));
  showCounts();
}

function avatars(conversationId) {
  const here = (state.presence.get(conversationId) || []).filter((p) => p.agent_id !== state.me.id);
  return el("span", { class: "avatars" }, here.map((p) => el("span", {
    class: `avatar ${p.state}`, title: `${p.name} ${p.state.replace("_", " ")}`,
  }, initials(p.name))));
}

export function initials(name) {
  return (name || "?").split(/\s+/).map((part) => part[0]).join("").slice(0, 2).toUpperCase();
}

function row(conversation, index) {
  const inbox = state.inboxes.get(conversation.last_inbox_id);
  return el("li", {
    class: ["row", index === state.cursor ? "cursor" : "", thread.id === conversation.id ? "open" : ""].join(" "),
    dataset: { id: conversation.id }, onclick: () => { state.cursor = index; open(); },
  },
  el("div", { class: "row-top" },
    el("strong", {}, contactName(conversation.contact)),
    el("span", { class: "time" }, when(conversation.last_message_at))),
  el("div", { class: "preview" }, conversation.preview || ""),
  el("div", { class: "tags" },
    el("span", { class: `tag status-${conversation.status}` }, conversation.status),
    el("span", { class: `tag handler-${conversation.handler}` }, conversation.handler === "ai" ? "AI" : "human"),
    inbox ? el("span", { class: "tag" }, inbox.channel) : null,
    conversation.priority !== "normal" ? el("span", { class: `tag priority-${conversation.priority}` }, conversation.priority) : null,
    conversation.topics.map((t) => el("span", { class: "tag topic" }, t.name)),
    avatars(conversation.id)));
}

function renderList() {
  list.replaceChildren(...state.items.map(row));
  if (!state.items.length) list.append(el("li", { class: "empty" }, "Nothing here."));
}

let refreshing = null;
let listAsked = 0;
async function refresh({ counts = true } = {}) {
  const asked = ++listAsked;
  if (counts) countsSoon(); // another view alone changes no count
  const page = await api("GET", "/conversations" + query({ ...currentParams(), limit: 50 }));
  if (asked !== listAsked) return; // answers can arrive out of order: the newest request wins
  state.items = page.items;
  state.cursor = Math.min(Math.max(state.cursor, 0), state.items.length - 1);
  renderList();
}
function refreshSoon() {
  // Bursts of events coalesce into one refetch.
  if (refreshing) return;
  refreshing = setTimeout(() => { refreshing = null; background(refresh()); }, 150);
}

function move(step) {
  if (!state.items.length) return;
  state.cursor = Math.min(Math.max(state.cursor + step, 0), state.items.length - 1);
  renderList();
  list.querySelector(".cursor")?.scrollIntoView({ block: "nearest" });
}

function open() {
  const conversation = state.items[state.cursor];
  if (!conversation) return;
  history.replaceState(null, "", `#c=${conversation.id}`);
  thread.open(conversation.id).then(renderList);
}

document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  if (typing) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (event.key === "j") move(1);
  else if (event.key === "k") move(-1);
  else if (event.key === "Enter") open();
  else if (event.key === "/") { event.preventDefault(); filters.q.focus(); }
  else return;
  event.preventDefault();
});

filters.addEventListener("input", () => refreshSoon());
filters.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });

function notify(text, conversationId) {
  const box = document.getElementById("notifications");
  const item = el("a", { class: "notification", href: `#c=${conversationId}`, role: "status",
    onclick: (event) => { event.preventDefault(); item.remove(); thread.open(conversationId); } }, text);
  box.append(item);
  setTimeout(() => item.remove(), 30000);
}

const thread = new Thread(document.getElementById("thread"), state, {
  changed: () => refreshSoon(),
  view: (id) => live.view(id),
  typing: (id, kind) => live.typing(id, kind),
});

const live = new Live({
  state: (value) => {
    const badge = document.getElementById("live-state");
    badge.textContent = value === "live" ? "live" : `not live: refreshing every ${POLL_MS / 1000} s`;
    badge.title = value === "live" ? "Live updates" : "No live connection; the lists refresh on a timer";
    badge.className = `live-state ${value}`;
  },
  hello: (message) => {
    // hello's agents are {id, name, availability}: keep what /agents said (email, active)
    for (const agent of message.agents || []) state.agents.set(agent.id, { ...state.agents.get(agent.id), ...agent });
    for (const entry of message.presence || []) state.presence.set(entry.conversation_id, entry.agents);
    renderList();
    thread.presenceChanged();
  },
  event: (message) => {
    refreshSoon();
    thread.eventArrived(message.event);
  },
  refetch: () => { refreshSoon(); background(thread.reload()); },
  presence: (message) => {
    state.presence.set(message.conversation_id, message.agents);
    renderList();
    thread.presenceChanged();
  },
  collision: (message) => thread.collision(message),
  notification: (message) => {
    const by = state.agents.get(message.by_agent_id);
    const who = by ? by.name : "A teammate";
    const text = message.kind === "mention"
      ? `${who} mentioned you in #${message.conversation_id}`
      : `${who} assigned you #${message.conversation_id}`;
    notify(text, message.conversation_id);
  },
});

document.getElementById("availability").addEventListener("change", async (event) => {
  state.me = await api("PATCH", "/auth/me", { availability: event.target.value });
});
document.getElementById("sign-out").addEventListener("click", async () => {
  await api("POST", "/auth/logout");
  window.location.assign("/app/login");
});

async function boot() {
  const [me, agents, teams, inboxes, canned] = await Promise.all([
    api("GET", "/auth/me"), api("GET", "/agents"), api("GET", "/teams"), api("GET", "/inboxes"),
    api("GET", "/canned_responses").catch(() => []),
  ]);
  state.canned = canned;
  state.me = me;
  for (const agent of agents) state.agents.set(agent.id, agent);
  state.teams = teams;
  for (const inbox of inboxes) state.inboxes.set(inbox.id, inbox);
  filters.inbox.append(...inboxes.map((inbox) => el("option", { value: inbox.id }, `${inbox.channel} · ${inbox.name}`)));

  document.getElementById("me-name").textContent = me.name;
  document.getElementById("settings-link").hidden = me.role !== "admin";
  const availability = document.getElementById("availability");
  availability.value = me.availability;
  availability.disabled = false; // enabled once it shows the stored value

  renderViews();
  await refresh();
  const opened = /^#c=(\d+)$/.exec(location.hash);
  if (opened) await thread.open(Number(opened[1]));
  live.start();
}

boot();
