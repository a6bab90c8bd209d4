import { api } from "./api.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const data = new FormData(form);
  try {
    await api("POST", "/auth/login", { email: data.get("email"), password: data.get("password") });
    window.location.assign("/app");
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
});
