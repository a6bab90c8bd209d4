// Admin settings: outbound webhook subscriptions and their recent deliveries.
import { api, el, when } from "./api.js";

const EVENTS = [
  "conversation.created", "message.created", "handoff.requested", "conversation.assigned",
  "conversation.resolved", "survey.answered", "contact.updated",
];
const byId = (id) => document.getElementById(id);
let selected = null;

function showError(failure) {
  byId("webhooks-error").textContent = failure.message;
  byId("webhooks-error").hidden = false;
}

function guarded(action) {
  return async (event) => {
    if (event) event.preventDefault();
    byId("webhooks-error").hidden = true;
    try { await action(event); } catch (failure) { showError(failure); }
  };
}

async function loadWebhooks() {
  const hooks = await api("GET", "/webhooks");
  byId("webhooks").replaceChildren(...hooks.map((hook) => el("tr", { dataset: { id: hook.id } },
    el("td", {}, hook.url, hook.description ? el("div", { class: "muted" }, hook.description) : null),
    el("td", {}, hook.event_types.join(", ")),
    el("td", {}, hook.active ? "active" : `disabled${hook.disabled_reason ? `: ${hook.disabled_reason}` : ""}`),
    el("td", {},
      el("button", { type: "button", "aria-label": `Deliveries of ${hook.url}`, onclick: guarded(() => showDeliveries(hook)) }, "Deliveries"),
      " ",
      el("button", { type: "button", "aria-label": `Send a test to ${hook.url}`, onclick: guarded(() => ping(hook)) }, "Send test"),
      " ",
      el("button", { type: "button", "aria-label": `${hook.active ? "Disable" : "Enable"} ${hook.url}`, onclick: guarded(() => toggle(hook)) }, hook.active ? "Disable" : "Enable"),
      " ",
      el("button", { type: "button", "aria-label": `Delete ${hook.url}`, onclick: guarded(() => remove(hook)) }, "Delete")))));
}

async function showDeliveries(hook) {
  selected = hook;
  byId("deliveries-section").hidden = false;
  byId("deliveries-title").textContent = `Recent deliveries to ${hook.url}`;
  const page = await api("GET", `/webhooks/${hook.id}/deliveries?limit=50`);
  byId("deliveries").replaceChildren(...page.items.map((d) => el("tr", { dataset: { id: d.id, status: d.status } },
    el("td", {}, d.id), el("td", {}, d.event_type), el("td", { class: "delivery-status" }, d.status),
    el("td", {}, d.attempts),
    el("td", { title: d.last_error || "" }, d.response_status ?? (d.last_error ? "error" : "—")),
    el("td", {}, when(d.last_attempt_at || d.created_at)),
    el("td", {}, d.status === "queued" ? null : el("button", {
      type: "button", "aria-label": `Redeliver ${d.id}`,
      onclick: guarded(async () => {
        await api("POST", `/webhooks/${hook.id}/deliveries/${d.id}/redeliver`);
        await showDeliveries(hook);
      }),
    }, "Redeliver")))));
}

async function ping(hook) {
  await api("POST", `/webhooks/${hook.id}/test`);
  await showDeliveries(hook);
}

async function toggle(hook) {
  await api("PATCH", `/webhooks/${hook.id}`, { active: !hook.active });
  await loadWebhooks();
}

async function remove(hook) {
  if (!window.confirm(`Delete the webhook to ${hook.url}?`)) return;
  await api("DELETE", `/webhooks/${hook.id}`);
  if (selected && selected.id === hook.id) byId("deliveries-section").hidden = true;
  await loadWebhooks();
}

async function create(event) {
  const form = event.target;
  const event_types = EVENTS.filter((name) => form[`event-${name}`].checked);
  const hook = await api("POST", "/webhooks", { url: form.url.value, description: form.description.value, event_types });
  form.reset();
  const secret = byId("webhook-secret");
  secret.textContent = `Signing secret for ${hook.url} (shown once): ${hook.secret}`;
  secret.hidden = false;
  await loadWebhooks();
  await showDeliveries(hook);
}

async function boot() {
  byId("webhook-events").append(...EVENTS.map((name) => el("label", {},
    el("input", { type: "checkbox", name: `event-${name}`, "aria-label": name }), ` ${name} `)));
  byId("webhook-form").addEventListener("submit", guarded(create));
  byId("deliveries-refresh").addEventListener("click", guarded(() => selected && showDeliveries(selected)));
  byId("me-name").textContent = (await api("GET", "/auth/me")).name;
  await loadWebhooks();
}

boot().catch(showError);
