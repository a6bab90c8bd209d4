// Admin settings: agents, teams, inboxes' AI mode, business hours, playbook, knowledge,
// canned responses.
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
  byId("articles").replaceChildren(...page.items.map((a) => el("tr", { dataset: { id: a.id } },
    el("td", {}, a.title), el("td", {}, a.language), el("td", {}, a.chunk_count), el("td", {}, when(a.updated_at)),
    el("td", {},
      el("button", { type: "button", "aria-label": `Edit ${a.title}`, onclick: guarded(() => editArticle(a.id)) }, "Edit"),
      " ",
      el("button", { type: "button", "aria-label": `Delete ${a.title}`, onclick: guarded(() => deleteArticle(a)) }, "Delete")))));
}

async function editArticle(id) {
  const article = await api("GET", `/knowledge/articles/${id}`);
  const form = byId("article-form");
  form.id.value = article.id;
  form.title.value = article.title;
  form.body.value = article.body;
  form.hidden = false;
  form.title.focus();
}

async function saveArticle() {
  const form = byId("article-form");
  const article = await api("PATCH", `/knowledge/articles/${form.id.value}`, { title: form.title.value, body: form.body.value });
  form.hidden = true;
  saved("knowledge-saved", `Saved ${article.title}: ${article.chunks.length} chunks`);
  await loadArticles();
}

async function deleteArticle(article) {
  if (!window.confirm(`Delete the article ${article.title}?`)) return;
  await api("DELETE", `/knowledge/articles/${article.id}`);
  saved("knowledge-saved", `Deleted ${article.title}`);
  await loadArticles();
}

async function loadCanned() {
  const canned = await api("GET", "/canned_responses");
  byId("canned").replaceChildren(...canned.map((c) => el("tr", { dataset: { id: c.id } },
    el("td", {}, `/${c.shortcut}`), el("td", {}, c.title), el("td", { class: "clip" }, c.text),
    el("td", {},
      el("button", { type: "button", "aria-label": `Edit /${c.shortcut}`, onclick: () => editCanned(c) }, "Edit"),
      " ",
      el("button", { type: "button", "aria-label": `Delete /${c.shortcut}`, onclick: guarded(() => deleteCanned(c)) }, "Delete")))));
}

function editCanned(canned) {
  const form = byId("canned-form");
  for (const name of ["id", "shortcut", "title", "text"]) form[name].value = canned ? canned[name] : "";
  byId("canned-submit").textContent = canned ? "Save canned response" : "Add canned response";
  byId("canned-cancel").hidden = !canned;
  if (canned) form.shortcut.focus();
}

async function saveCanned() {
  const form = byId("canned-form");
  const body = { shortcut: form.shortcut.value, title: form.title.value, text: form.text.value };
  const canned = form.id.value
    ? await api("PATCH", `/canned_responses/${form.id.value}`, body)
    : await api("POST", "/canned_responses", body);
  editCanned(null);
  saved("canned-saved", `Saved /${canned.shortcut}`);
  await loadCanned();
}

async function deleteCanned(canned) {
  if (!window.confirm(`Delete the canned response /${canned.shortcut}?`)) return;
  await api("DELETE", `/canned_responses/${canned.id}`);
  saved("canned-saved", `Deleted /${canned.shortcut}`);
  await loadCanned();
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
  byId("article-form").addEventListener("submit", guarded(saveArticle));
  byId("article-cancel").addEventListener("click", () => { byId("article-form").hidden = true; });
  byId("canned-form").addEventListener("submit", guarded(saveCanned));
  byId("canned-cancel").addEventListener("click", () => editCanned(null));
  const me = await api("GET", "/auth/me");
  byId("me-name").textContent = me.name;
  await Promise.all([
    loadAgents(), loadTeams(), loadInboxes(), loadHours(), loadPlaybook(), loadArticles(), loadCanned(),
  ]);
}

boot().catch(showError);
