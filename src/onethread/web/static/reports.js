// The dashboard: service and support side by side, the assistant below, trends and the
// backlog as charts, and a warning when one side improved while the other worsened.
import { api, el, query } from "./api.js";

const byId = (id) => document.getElementById(id);
const form = byId("report-filters");
const CHANNELS = ["whatsapp", "messenger", "instagram", "twilio_sms", "twilio_whatsapp", "twilio_voice", "webchat"];
const TRENDS = {
  volume: "Conversations per day",
  first_response_median: "First response, median",
  csat_average: "CSAT average",
  fcr_rate: "First-contact resolution",
  ai_resolution_rate: "AI resolution rate",
  handle_time_average: "Average handle time",
};

// As reports/formatting.py shows figures in the review and the warnings.
export function shown(value, unit) {
  if (value == null) return "—";
  if (unit === "seconds") {
    if (value < 90) return `${Math.round(value)} s`;
    return value < 5400 ? `${(value / 60).toFixed(1)} min` : `${(value / 3600).toFixed(1)} h`;
  }
  if (unit === "percent") return `${value.toFixed(1)} %`;
  if (unit === "points") return `${value > 0 ? "+" : ""}${Math.round(value)}`;
  if (unit === "score" || unit === "money") return value.toLocaleString(undefined, { maximumFractionDigits: 2 });
  return Math.round(value).toLocaleString();
}

function change(metric) {
  if (metric.value == null || metric.previous == null) return "";
  const arrow = metric.value > metric.previous ? "▲" : metric.value < metric.previous ? "▼" : "=";
  return ` ${arrow}`;
}

function card(metric) {
  return el("div", { class: `metric ${metric.verdict || ""}`, dataset: { key: metric.key } },
    el("span", { class: "label" }, metric.label),
    el("strong", {}, shown(metric.value, metric.unit)),
    el("small", {}, `previous: ${shown(metric.previous, metric.unit)}`,
      el("span", { class: "change", title: metric.verdict || "" }, change(metric))));
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

// A line chart of one series; gaps (null) break the line.
export function lineChart(title, labels, values) {
  const width = 300, height = 120, pad = 18;
  const present = values.filter((v) => v != null);
  const box = el("div", { class: "chart", dataset: { chart: title } }, el("h3", {}, title));
  const drawing = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  if (present.length) {
    const top = Math.max(...present) || 1;
    const step = (width - 2 * pad) / Math.max(1, values.length - 1);
    let d = "", drawingLine = false;
    const dots = [];
    values.forEach((value, index) => {
      if (value == null) { drawingLine = false; return; }
      const x = pad + index * step, y = pad + (height - 2 * pad) * (1 - value / top);
      d += `${drawingLine ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)} `;
      drawingLine = true;
      const dot = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 2.5, fill: "#2457d6" });
      dot.append(svg("title"));
      dot.firstChild.textContent = `${(labels[index] || "").slice(0, 10)}: ${value}`;
      dots.push(dot);
    });
    drawing.append(svg("path", { d, fill: "none", stroke: "#2457d6", "stroke-width": 2 }), ...dots);
    const label = svg("text", { x: 0, y: 11, "font-size": 10, fill: "#5f6b7a" });
    label.textContent = `max ${top.toLocaleString(undefined, { maximumFractionDigits: 1 })}`;
    drawing.append(label);
    for (const [index, text] of [[0, labels[0]], [labels.length - 1, labels.at(-1)]]) {
      const tick = svg("text", { x: pad + index * step, y: height - 3, "font-size": 10, fill: "#5f6b7a", "text-anchor": index ? "end" : "start" });
      tick.textContent = (text || "").slice(5, 10);
      drawing.append(tick);
    }
  } else {
    box.append(el("p", { class: "muted" }, "No data in this period."));
  }
  box.append(drawing);
  return box;
}

function params() {
  const data = Object.fromEntries(new FormData(form));
  delete data.preset;
  return data;
}

function applyPreset() {
  const days = form.elements.preset.value;
  if (days === "custom") return;
  const to = new Date();
  const from = new Date(to.getTime() - (Number(days) - 1) * 86400000);
  form.elements.to.value = to.toISOString().slice(0, 10);
  form.elements.from.value = from.toISOString().slice(0, 10);
}

function render(data) {
  byId("warnings").replaceChildren(...data.warnings.map((w) => el("p", { class: "warning", role: "alert" }, w.text)));
  byId("period-note").textContent = `${data.period.from.slice(0, 10)} to ${data.period.to.slice(0, 10)} (end excluded), against ${data.previous.from.slice(0, 10)} to ${data.previous.to.slice(0, 10)}.`;
  for (const side of ["support", "service", "assistant"]) {
    byId(`side-${side}`).replaceChildren(...data.metrics.filter((m) => m.side === side).map(card));
  }
  const labels = data.trends.buckets;
  byId("trends").replaceChildren(...Object.entries(TRENDS)
    .filter(([key]) => key in data.trends.series)
    .map(([key, title]) => lineChart(title, labels, data.trends.series[key])));
  byId("backlog").replaceChildren(lineChart("Open conversations", data.backlog.map((p) => p.at), data.backlog.map((p) => p.open)));
  byId("handoff-reasons").replaceChildren(...data.handoff_reasons.map((r) => el("tr", {},
    el("td", {}, r.reason), el("td", { class: "num" }, r.count), el("td", { class: "num" }, shown(r.rate, "percent")))));
}

async function load() {
  const error = byId("report-error");
  error.hidden = true;
  const asked = query(params());
  byId("csv-export").href = `/api/v1/reports/dashboard.csv${asked}`;
  try {
    render(await api("GET", `/reports/dashboard${asked}`));
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
}

async function fillChoices() {
  const [inboxes, teams, agents, playbook] = await Promise.all([
    api("GET", "/inboxes"), api("GET", "/teams"), api("GET", "/agents"),
    api("GET", "/playbook").catch(() => null),
  ]);
  const add = (name, items) => form.elements[name].append(...items.map(([value, label]) => el("option", { value }, label)));
  add("channel", CHANNELS.map((c) => [c, c]));
  add("inbox_id", inboxes.map((i) => [i.id, i.name]));
  add("team_id", teams.map((t) => [t.id, t.name]));
  add("agent_id", agents.map((a) => [a.id, a.name]));
  const topics = playbook?.playbook?.topics || playbook?.topics || [];
  add("topic", topics.map((t) => [t.name, t.title || t.name]));
}

form.addEventListener("change", (event) => {
  if (event.target.name === "preset") applyPreset();
  else if (event.target.name === "from" || event.target.name === "to") form.elements.preset.value = "custom";
  load();
});
form.addEventListener("submit", (event) => { event.preventDefault(); load(); });

applyPreset();
const me = await api("GET", "/auth/me");
byId("me-name").textContent = me.name;
await fillChoices();
await load();
