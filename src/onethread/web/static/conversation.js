// One conversation: timeline across channels, contact panel, composer and actions.
import { api, background, el, when } from "./api.js";
import { MentionPicker, mentionedIds } from "./mentions.js";

export function contactName(contact) {
  return contact.name || `Contact ${contact.id}`;
}

const WHATSAPP_WINDOW_MS = 24 * 3600 * 1000;
const TYPING_IDLE_MS = 3000;

export class Thread {
  constructor(root, state, hooks) {
    this.root = root;
    this.state = state;
    this.hooks = hooks; // {changed, view, typing}
    this.id = null;
    this.conversation = null;
    this.messages = [];
    this.contact = null;
    this.previous = [];
    this.typingTimer = null;
    this.typingKind = null;
  }

  async open(id) {
    this.id = id;
    this.hooks.view(id);
    await this.reload();
  }

  async reload() {
    if (this.id == null) return;
    const id = this.id;
    const [conversation, messages] = await Promise.all([
      api("GET", `/conversations/${id}`), api("GET", `/conversations/${id}/messages`),
    ]);
    const [contact, previous] = await Promise.all([
      api("GET", `/contacts/${conversation.contact.id}`),
      api("GET", `/conversations?contact=${conversation.contact.id}&limit=10`),
    ]);
    if (id !== this.id) return; // another conversation was opened meanwhile
    Object.assign(this, { conversation, messages, contact, previous: previous.items.filter((c) => c.id !== id) });
    this.render();
  }

  eventArrived(event) {
    if (event.conversation_id === this.id) this.reloadSoon();
  }

  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => background(this.reload()), 100);
  }

  // --- rendering -----------------------------------------------------------

  render() {
    const c = this.conversation;
    const draft = this.draft();
    this.root.replaceChildren(
      el("div", { class: "thread-main" },
        el("div", { class: "thread-head" },
          el("h2", {}, contactName(c.contact)),
          el("span", { class: `tag status-${c.status}` }, c.status),
          el("span", { class: `tag handler-${c.handler}` }, c.handler === "ai" ? "AI handling" : "Human"),
          el("span", { class: "spacer" }),
          el("span", { id: "viewers", class: "avatars" })),
        el("div", { id: "collision", class: "collision", role: "alert", hidden: true }),
        this.renderActions(),
        this.renderHandoff(),
        el("ol", { class: "timeline", id: "timeline" }, this.messages.map((m) => this.renderMessage(m))),
        el("div", { id: "typing", class: "typing", "aria-live": "polite" }),
        this.renderComposer()),
      this.renderContact());
    this.presenceChanged();
    this.root.querySelector("#timeline").lastElementChild?.scrollIntoView({ block: "end" });
    this.restore(draft);
  }

  // A live update re-renders the thread: what the agent was writing survives it.
  draft() {
    const form = this.root.querySelector("#composer");
    if (!form || Number(form.dataset.conversation) !== this.id) return null;
    const text = form.text;
    return {
      mode: form.mode.value, inbox: form.inbox_id.value, text: text.value,
      focused: document.activeElement === text, start: text.selectionStart, end: text.selectionEnd,
    };
  }

  restore(draft) {
    const form = this.root.querySelector("#composer");
    if (!draft || !form) return;
    form.mode.value = draft.mode;
    form.mode.dispatchEvent(new Event("change"));
    if ([...form.inbox_id.options].some((o) => o.value === draft.inbox)) {
      form.inbox_id.value = draft.inbox;
      form.inbox_id.dispatchEvent(new Event("change"));
    }
    form.text.value = draft.text;
    if (draft.focused) {
      form.text.focus();
      form.text.setSelectionRange(draft.start, draft.end);
    }
  }

  renderHandoff() {
    const notes = this.messages.filter((m) => m.private && m.ai_meta && m.ai_meta.handoff_summary);
    const note = notes.at(-1);
    if (!note) return null;
    return el("aside", { class: "handoff", id: "handoff-summary" },
      el("strong", {}, note.sender_kind === "ai" ? "Handoff from the assistant"
        : `Handoff by ${this.state.agents.get(note.sender_agent_id)?.name || "a teammate"}`),
      // The flag marks the note; its text is the summary (older notes may carry the text).
      el("p", {}, typeof note.ai_meta.handoff_summary === "string" ? note.ai_meta.handoff_summary : note.text),
      note.ai_meta.reason ? el("small", {}, `Reason: ${note.ai_meta.reason}`) : null);
  }

  renderMessage(m) {
    const author = {
      agent: () => this.state.agents.get(m.sender_agent_id)?.name || "Agent",
      ai: () => "Assistant",
      contact: () => contactName(this.conversation.contact),
    }[m.sender_kind]?.() || m.sender_kind;
    const meta = m.ai_meta || {};
    const sources = Array.isArray(meta.sources) ? meta.sources : [];
    const actions = Array.isArray(meta.actions) ? meta.actions : [];
    return el("li", {
      class: ["message", m.direction === "in" ? "inbound" : "outbound", m.private ? "note" : "", m.ai_meta && !m.private ? "ai" : ""].join(" "),
      dataset: { id: m.id },
    },
    el("div", { class: "message-head" },
      el("strong", {}, author),
      m.private ? el("span", { class: "tag note-tag" }, "private note") : el("span", { class: "tag" }, m.channel || "—"),
      m.delivery_status ? el("span", { class: `tag delivery-${m.delivery_status}`, title: m.delivery_error || "" }, m.delivery_status) : null,
      el("time", { datetime: m.created_at }, when(m.created_at))),
    el("p", { class: "text" }, m.text),
    sources.length ? el("div", { class: "sources" }, "Sources: ",
      sources.map((s) => el("span", { class: "tag source" }, typeof s === "string" ? s : (s.title || s.name || JSON.stringify(s))))) : null,
    actions.length ? el("div", { class: "actions-used" }, "Actions: ",
      actions.map((a) => el("span", { class: "tag action" }, typeof a === "string" ? a : `${a.name || a.action || "action"}${a.outcome ? ` (${a.outcome})` : ""}`))) : null);
  }

  channels() {
    // Reply channels: every inbox the contact wrote from, latest first.
    const seen = new Map();
    for (const m of this.messages) {
      if (m.direction === "in" && m.inbox_id != null) seen.set(m.inbox_id, { inbox_id: m.inbox_id, channel: m.channel, last_inbound: m.created_at });
    }
    return [...seen.values()].reverse();
  }

  windowState(choice) {
    if (!choice || choice.channel !== "whatsapp") return null;
    const left = WHATSAPP_WINDOW_MS - (Date.now() - new Date(choice.last_inbound).getTime());
    if (left <= 0) return { open: false, text: "WhatsApp 24-hour window closed: only an approved template can be sent." };
    const hours = Math.floor(left / 3600000);
    const minutes = Math.floor((left % 3600000) / 60000);
    return { open: true, text: `WhatsApp window open: ${hours} h ${minutes} min left.` };
  }

  renderComposer() {
    const choices = this.channels();
    const select = el("select", { name: "inbox_id", "aria-label": "Reply channel" },
      choices.map((c) => el("option", { value: c.inbox_id }, `${c.channel} (${this.state.inboxes.get(c.inbox_id)?.name || c.inbox_id})`)));
    const windowLine = el("p", { class: "window", id: "reply-window" });
    const showWindow = () => {
      const choice = choices.find((c) => String(c.inbox_id) === select.value);
      const info = this.windowState(choice);
      windowLine.textContent = info ? info.text : "";
      windowLine.className = `window ${info && !info.open ? "closed" : ""}`;
    };
    select.addEventListener("change", showWindow);
    const text = el("textarea", { name: "text", rows: 3, placeholder: "Reply to the customer…", "aria-label": "Message" });
    const mode = el("select", { name: "mode", "aria-label": "Reply or note" },
      el("option", { value: "reply" }, "Reply"), el("option", { value: "note" }, "Private note"));
    const error = el("p", { class: "error", id: "composer-error", role: "alert", hidden: true });
    const picker = new MentionPicker(text, {
      // oneself is not offered: mentioning oneself notifies nobody
      agents: () => this.activeAgents().filter((a) => a.id !== this.state.me.id),
      enabled: () => mode.value === "note",
    });
    const form = el("form", { class: "composer", id: "composer", dataset: { conversation: this.id } },
      el("div", { class: "composer-bar" }, mode, select,
        this.cannedPicker(text),
        el("button", { type: "button", onclick: () => this.suggest(text, error) }, "Insert suggestion")),
      windowLine, el("div", { class: "composer-text" }, text, picker.list), error,
      el("div", { class: "composer-bar" }, el("small", {}, "Notes: @Name mentions a teammate"),
        el("span", { class: "spacer" }), el("button", { type: "submit" }, "Send")));
    const syncMode = () => {
      const note = mode.value === "note";
      form.classList.toggle("note-mode", note);
      select.hidden = note;
      windowLine.hidden = note;
      text.placeholder = note ? "Private note, only your team sees it. @Name to mention" : "Reply to the customer…";
    };
    mode.addEventListener("change", () => { syncMode(); picker.update(); });
    text.addEventListener("input", () => this.typing(mode.value));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.send(form, error); });
    syncMode();
    showWindow();
    return form;
  }

  activeAgents() {
    return [...this.state.agents.values()].filter((a) => a.active !== false);
  }

  async send(form, error) {
    const text = form.text.value.trim();
    if (!text) return;
    error.hidden = true;
    try {
      if (form.mode.value === "note") {
        await api("POST", `/conversations/${this.id}/notes`, { text, mentions: mentionedIds(text, this.activeAgents()) });
      } else {
        const inboxId = form.inbox_id.value ? Number(form.inbox_id.value) : null;
        await api("POST", `/conversations/${this.id}/reply`, { text, inbox_id: inboxId });
      }
      form.text.value = "";
      this.stopTyping();
      await this.reload();
      this.hooks.changed();
    } catch (failure) {
      error.textContent = failure.code === "outside_reply_window"
        ? `Not sent: ${failure.message}.${failure.details && failure.details.templates && failure.details.templates.length ? ` Templates: ${failure.details.templates.map((t) => t.name || t).join(", ")}` : ""}`
        : failure.message;
      error.hidden = false;
    }
  }

  cannedPicker(text) {
    const canned = this.state.canned || [];
    if (!canned.length) return null;
    return el("select", { "aria-label": "Canned response", onchange: (event) => {
      const picked = canned.find((c) => String(c.id) === event.target.value);
      if (picked) text.value = text.value ? `${text.value}\n${picked.text}` : picked.text;
      event.target.value = "";
      text.focus();
    } }, el("option", { value: "" }, "Canned response…"),
    canned.map((c) => el("option", { value: c.id }, `/${c.shortcut} · ${c.title}`)));
  }

  async suggest(text, error) {
    error.hidden = true;
    try {
      const suggestion = await api("POST", `/conversations/${this.id}/suggestion`);
      if (suggestion.text) text.value = suggestion.text;
      else throw new Error("The assistant has no grounded suggestion for this conversation.");
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  }

  typing(kind) {
    if (this.typingKind !== kind) {
      this.typingKind = kind;
      this.hooks.typing(this.id, kind);
    } else if (!this.lastTypingSent || Date.now() - this.lastTypingSent > 2000) {
      this.hooks.typing(this.id, kind); // refresh: typing expires after 6 s server-side
    }
    this.lastTypingSent = Date.now();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingKind) this.hooks.typing(this.id, null);
    this.typingKind = null;
  }

  renderActions() {
    const c = this.conversation;
    const agents = [...this.state.agents.values()];
    const act = (path, body) => async () => {
      await api("POST", `/conversations/${this.id}/${path}`, body);
      await this.reload();
      this.hooks.changed();
    };
    const assign = el("select", { "aria-label": "Assignee", onchange: (e) => act("assign", { assignee_id: e.target.value ? Number(e.target.value) : null })() },
      el("option", { value: "" }, "Unassigned"),
      agents.map((a) => el("option", { value: a.id, selected: a.id === c.assignee_id }, a.name)));
    const team = el("select", { "aria-label": "Team", onchange: (e) => e.target.value && act("transfer", { team_id: Number(e.target.value) })() },
      el("option", { value: "" }, "Transfer to team…"),
      this.state.teams.map((t) => el("option", { value: t.id, selected: t.id === c.team_id }, t.name)));
    const priority = el("select", { "aria-label": "Priority", onchange: (e) => act("priority", { priority: e.target.value })() },
      ["low", "normal", "high", "urgent"].map((p) => el("option", { value: p, selected: p === c.priority }, p)));
    const snooze = el("select", { "aria-label": "Snooze", onchange: (e) => {
      if (!e.target.value) return;
      const until = new Date(Date.now() + Number(e.target.value) * 3600000).toISOString();
      act("snooze", { until })();
    } }, el("option", { value: "" }, "Snooze…"), el("option", { value: 1 }, "1 hour"),
      el("option", { value: 4 }, "4 hours"), el("option", { value: 24 }, "Tomorrow"));
    return el("div", { class: "thread-actions" }, assign, team, priority, snooze,
      c.handler === "human"
        ? el("button", { type: "button", onclick: act("handback") }, "Hand back to AI")
        : el("button", { type: "button", onclick: act("handoff", { reason: "agent_took_over" }) }, "Take over"),
      c.status === "resolved"
        ? el("button", { type: "button", onclick: act("reopen") }, "Reopen")
        : el("button", { type: "button", onclick: act("resolve") }, "Resolve"));
  }

  renderContact() {
    const contact = this.contact;
    const attributes = contact.attributes || {};
    const known = [["plan", "Plan"], ["vip", "VIP"], ["customer_since", "Customer since"], ["lifetime_value", "Lifetime value"]];
    const rest = Object.keys(attributes).filter((key) => !known.some(([k]) => k === key));
    const field = (label, value) => el("div", { class: "field" }, el("dt", {}, label), el("dd", {}, String(value)));
    return el("aside", { class: "contact-panel", id: "contact-panel" },
      el("h3", {}, contactName(contact)),
      el("dl", {},
        contact.email ? field("Email", contact.email) : null,
        contact.phone ? field("Phone", contact.phone) : null,
        contact.language ? field("Language", contact.language) : null,
        known.filter(([k]) => attributes[k] != null).map(([k, label]) => field(label, attributes[k] === true ? "yes" : attributes[k])),
        rest.map((k) => field(k, typeof attributes[k] === "object" ? JSON.stringify(attributes[k]) : attributes[k]))),
      el("h4", {}, "Identities"),
      el("ul", { class: "identities" }, contact.identities.map((i) =>
        el("li", {}, el("span", { class: "tag" }, i.channel), " ", i.display_name || i.phone || i.email || i.external_id, i.verified ? " ✓" : ""))),
      this.mergeForm(),
      el("h4", {}, "Previous conversations"),
      el("ul", { class: "previous" }, this.previous.length ? this.previous.map((p) =>
        el("li", {}, el("a", { href: `#c=${p.id}`, onclick: (e) => { e.preventDefault(); this.open(p.id); } },
          `#${p.id} · ${p.status} · ${when(p.last_message_at)}`))) : el("li", {}, "None")));
  }

  mergeForm() {
    // Fold a duplicate (the same person on another channel) into this contact.
    const results = el("ul", { class: "merge-results" });
    const search = el("input", { type: "search", placeholder: "Find a duplicate…", "aria-label": "Find a contact to merge" });
    search.addEventListener("change", async () => {
      const found = search.value.trim()
        ? (await api("GET", `/contacts?q=${encodeURIComponent(search.value.trim())}&limit=5`)).items
        : [];
      results.replaceChildren(...found.filter((c) => c.id !== this.contact.id).map((c) => el("li", {},
        `${contactName(c)} `,
        el("button", { type: "button", onclick: async () => {
          await api("POST", `/contacts/${this.contact.id}/merge`, { source_id: c.id });
          await this.reload();
          this.hooks.changed();
        } }, `Merge into ${contactName(this.contact)}`))));
    });
    return el("div", { class: "merge" }, el("h4", {}, "Merge contacts"), search, results);
  }

  // --- multiplayer -----------------------------------------------------------

  presenceChanged() {
    if (this.id == null) return;
    const viewers = this.root.querySelector("#viewers");
    const typing = this.root.querySelector("#typing");
    if (!viewers) return;
    const others = (this.state.presence.get(this.id) || []).filter((p) => p.agent_id !== this.state.me.id);
    viewers.replaceChildren(...others.map((p) => el("span", {
      class: `avatar ${p.state}`, title: `${p.name} is ${p.state === "viewing" ? "viewing" : "typing"}`,
      dataset: { agent: p.agent_id },
    }, p.name.split(/\s+/).map((s) => s[0]).join("").slice(0, 2).toUpperCase())));
    const typists = others.filter((p) => p.state !== "viewing");
    typing.textContent = typists.map((p) => `${p.name} is typing ${p.state === "typing_note" ? "a note" : "a reply"}…`).join(" ");
    const replying = others.filter((p) => p.state === "typing_reply");
    if (!replying.length) this.root.querySelector("#collision").hidden = true;
  }

  collision(message) {
    if (message.conversation_id !== this.id) return;
    const names = message.agent_ids.filter((id) => id !== this.state.me.id)
      .map((id) => this.state.agents.get(id)?.name || `agent ${id}`);
    const box = this.root.querySelector("#collision");
    if (!box || !names.length) return;
    box.textContent = `${names.join(", ")} is also writing a reply to this customer.`;
    box.hidden = false;
  }
}
