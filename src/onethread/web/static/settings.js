// Admin settings: agents, teams, inboxes' AI mode, business hours, playbook, knowledge.
import { api, apiRaw, el, when } from "./api.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const AI_MODES = ["off", "assist", "auto", "after_hours"];
const byId = (id) => document.getElementById(id);

function showError(failure) {
  const box = byId("settings-error");
  box.textContent = failure.message;
  box.hidden = false;
}

function saved(id, text = "Saved") {
  byId(id).textContent = text;
  setTimeout(() => { byId(id).textContent = ""; }, 4000);
}

// Run a settings action; a refusal from the API is shown at the top of the page.
function guarded(action) {
  return async (event) => {
    if (event) event.preventDefault();
    byId("settings-error").hidden = true;
    try { await action(event); } catch (failure) { showError(failure); }
  };
}

async function loadAgents() {
  const agents = await api("GET", "/agents");
  byId("agents").replaceChildren(...agents.map((a) => el("tr", {},
    el("td", {}, a.name), el("td", {}, a.email), el("td", {}, a.role), el("td", {}, a.availability))));
}

async function loadTeams() {
  const teams = await api("GET", "/teams");
  byId("teams").replaceChildren(...teams.map((t) => el("li", {}, `${t.name} (${t.domain})`)));
}

async function loadInboxes() {
  const inboxes = await api("GET", "/inboxes");
  byId("inboxes").replaceChildren(...inboxes.map((inbox) => el("tr", {},
    el("td", {}, inbox.name), el("td", {}, inbox.channel),
    el("td", {}, el("select", {
      "aria-label": `AI mode of ${inbox.name}`,
      onchange: guarded(async (event) => {
        await api("PATCH", `/inboxes/${inbox.id}`, { ai_mode: event.target.value });
      }),
    }, AI_MODES.map((mode) => el("option", { value: mode, selected: mode === inbox.ai_mode }, mode)))))));
}

let workspaceSettings = null;
async function loadHours() {
  workspaceSettings = (await api("GET", "/workspace")).settings;
  const form = byId("hours-form");
  form.timezone.value = workspaceSettings.timezone;
  const open = new Map(workspaceSettings.business_hours.map((h) => [h.day, h]));
  byId("hours").replaceChildren(...DAYS.map((day) => {
    const hours = open.get(day);
    return el("tr", { dataset: { day } },
      el("td", {}, el("label", {}, el("input", { type: "checkbox", name: `open-${day}`, checked: Boolean(hours), "aria-label": `Open on ${day}` }), ` ${day}`)),
      el("td", {}, el("input", { type: "time", name: `start-${day}`, value: hours ? hours.start.slice(0, 5) : "09:00", "aria-label": `${day} opens` })),
      el("td", {}, el("input", { type: "time", name: `end-${day}`, value: hours ? hours.end.slice(0, 5) : "17:00", "aria-label": `${day} closes` })));
  }));
}

async function saveHours() {
  if (!workspaceSettings) return; // not loaded yet: saving now would reset the other settings
  const form = byId("hours-form");
  const business_hours = DAYS.filter((day) => form[`open-${day}`].checked)
    .map((day) => ({ day, start: form[`start-${day}`].value, end: form[`end-${day}`].value }));
  const settings = { ...workspaceSettings, timezone: form.timezone.value, business_hours };
  workspaceSettings = (await api("PATCH", "/workspace", { settings })).settings;
  saved("hours-saved");
}

async function loadPlaybook() {
  byId("playbook-form").yaml.value = await apiRaw("GET", "/playbook/yaml");
}

async function savePlaybook() {
  const result = await apiRaw("PUT", "/playbook/yaml", byId("playbook-form").yaml.value, "application/yaml");
  saved("playbook-saved", `Saved: revision ${result.revision}`);
}

async function loadArticles() {
  const page = await api("GET", "/knowledge/articles?limit=200");
  byId("articles").replaceChildren(...page.items.map((a) => el("tr", {},
    el("td", {}, a.title), el("td", {}, a.language), el("td", {}, a.chunk_count), el("td", {}, when(a.updated_at)))));
}

async function upload() {
  const files = byId("upload-form").files.files;
  if (!files.length) return;
  const body = new FormData();
  for (const file of files) body.append("files", file);
  const result = await apiRaw("POST", "/knowledge/upload", body);
  saved("knowledge-saved", `${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged`);
  await loadArticles();
}

async function reindex() {
  const result = await api("POST", "/knowledge/reindex");
  saved("knowledge-saved", `Re-indexed ${result.articles} articles (${result.chunks_embedded} chunks)`);
  await loadArticles();
}

// Listeners first: a form submitted before the data arrives must not reload the page.
async function boot() {
  byId("agent-form").addEventListener("submit", guarded(async (event) => {
    const data = Object.fromEntries(new FormData(event.target));
    await api("POST", "/agents", data);
    event.target.reset();
    await loadAgents();
  }));
  byId("team-form").addEventListener("submit", guarded(async (event) => {
    await api("POST", "/teams", Object.fromEntries(new FormData(event.target)));
    event.target.reset();
    await loadTeams();
  }));
  byId("hours-form").addEventListener("submit", guarded(saveHours));
  byId("playbook-form").addEventListener("submit", guarded(savePlaybook));
  byId("upload-form").addEventListener("submit", guarded(upload));
  byId("reindex").addEventListener("click", guarded(reindex));
  const me = await api("GET", "/auth/me");
  byId("me-name").textContent = me.name;
  await Promise.all([loadAgents(), loadTeams(), loadInboxes(), loadHours(), loadPlaybook(), loadArticles()]);
}

boot().catch(showError);
