// @mentions in private notes: the autocomplete list under the composer, and the one place
// that turns a note's text into the agent ids the notes API notifies.
import { el } from "./api.js";

const MAX_OPTIONS = 8;
const NOT_A_NAME_CHAR = "(?![\\p{L}\\p{N}_])";

function escaped(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function mentions(text, name) {
  return new RegExp(`(^|\\s)@${escaped(name)}${NOT_A_NAME_CHAR}`, "iu").test(text);
}

// "@Full Name" mentions that agent; "@First" too, unless two teammates share that first name.
export function mentionedIds(text, agents) {
  const firstNames = new Map();
  for (const agent of agents) {
    const first = agent.name.split(/\s+/)[0].toLowerCase();
    firstNames.set(first, (firstNames.get(first) || 0) + 1);
  }
  return agents.filter((agent) => {
    const first = agent.name.split(/\s+/)[0];
    return mentions(text, agent.name) || (firstNames.get(first.toLowerCase()) === 1 && mentions(text, first));
  }).map((agent) => agent.id);
}

// The "@word" being typed right before the caret, if any.
function typedMention(textarea) {
  const before = textarea.value.slice(0, textarea.selectionStart);
  const match = /(^|\s)@([^\s@]*)$/u.exec(before);
  return match ? { start: before.length - match[2].length - 1, query: match[2].toLowerCase() } : null;
}

function matches(agent, query) {
  if (!query) return true;
  const words = agent.name.toLowerCase().split(/\s+/);
  return words.some((word) => word.startsWith(query)) || (agent.email || "").toLowerCase().startsWith(query);
}

// A listbox under the textarea: arrows move, Enter or Tab inserts, Escape closes, a click inserts.
export class MentionPicker {
  constructor(textarea, { agents, enabled }) {
    this.textarea = textarea;
    this.agents = agents; // () => the teammates one may mention
    this.enabled = enabled; // () => true while the composer writes a note
    this.options = [];
    this.active = 0;
    this.typed = null;
    this.list = el("ul", { id: "mention-list", class: "mention-list", role: "listbox", "aria-label": "Teammates", hidden: true });
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", "mention-list");
    textarea.addEventListener("input", () => this.update());
    textarea.addEventListener("click", () => this.update());
    textarea.addEventListener("keydown", (event) => this.key(event));
    textarea.addEventListener("blur", () => this.close());
  }

  update() {
    this.typed = this.enabled() ? typedMention(this.textarea) : null;
    this.options = this.typed
      ? this.agents().filter((agent) => matches(agent, this.typed.query)).slice(0, MAX_OPTIONS)
      : [];
    this.active = 0;
    this.render();
  }

  render() {
    this.list.hidden = !this.options.length;
    this.list.replaceChildren(...this.options.map((agent, index) => el("li", {
      id: `mention-${agent.id}`, role: "option", class: "mention-option",
      "aria-selected": index === this.active ? "true" : "false",
      // mousedown, not click: the textarea keeps the focus (its blur would close the list)
      onmousedown: (event) => { event.preventDefault(); this.pick(agent); },
    }, el("strong", {}, agent.name), " ", el("small", {}, agent.email || ""))));
    const active = this.options[this.active];
    if (active) this.textarea.setAttribute("aria-activedescendant", `mention-${active.id}`);
    else this.textarea.removeAttribute("aria-activedescendant");
    this.list.querySelector("[aria-selected=true]")?.scrollIntoView({ block: "nearest" });
  }

  key(event) {
    if (!this.options.length) return;
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (step) {
      this.active = (this.active + step + this.options.length) % this.options.length;
      this.render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      this.pick(this.options[this.active]);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation(); // the inbox's shortcuts (Escape leaves the textarea) wait
  }

  pick(agent) {
    const { value, selectionStart } = this.textarea;
    const inserted = `@${agent.name} `;
    this.textarea.value = value.slice(0, this.typed.start) + inserted + value.slice(selectionStart);
    const caret = this.typed.start + inserted.length;
    this.textarea.setSelectionRange(caret, caret);
    this.close();
    this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  close() {
    this.options = [];
    this.typed = null;
    this.render();
  }
}
