// The weekly review page: the same standalone file the command writes, for a chosen week.
import { api } from "./api.js";

const form = document.getElementById("week-form");
const frame = document.getElementById("review-frame");

function isoWeek(date) {
  const day = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  day.setUTCDate(day.getUTCDate() + 4 - (day.getUTCDay() || 7));
  const yearStart = new Date(Date.UTC(day.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((day - yearStart) / 86400000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

function show() {
  const week = form.elements.week.value;
  const asked = week ? `?week=${encodeURIComponent(week)}` : "";
  frame.src = `/api/v1/reports/weekly.html${asked}`;
  document.getElementById("review-download").href = frame.src;
  document.getElementById("review-download").download = `review-${week || "last-week"}.html`;
  document.getElementById("review-json").href = `/api/v1/reports/weekly${asked}`;
}

// The last complete week by default, as the command does.
form.elements.week.value = isoWeek(new Date(Date.now() - 7 * 86400000));
form.addEventListener("change", show);
form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
show();
document.getElementById("me-name").textContent = (await api("GET", "/auth/me")).name;
