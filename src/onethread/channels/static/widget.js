/*
 * onethread chat widget: a chat bubble for any site, no dependencies, no build step.
 *
 *   <script src="https://chat.example.com/widget.js" data-inbox="42" async></script>
 *
 * Optional attributes: data-user-id + data-user-hash (a signed-in customer, see
 * docs/widget.md), data-name, data-email, data-phone. Everything lives in a shadow
 * root, so the host page's CSS cannot reach it. Messages go over HTTP; replies come
 * live over a websocket that reconnects with backoff and refetches the history.
 */
(function () {
  "use strict";

  var script =
    document.currentScript ||
    document.querySelector('script[data-inbox][src*="widget.js"]');
  if (!script || !script.getAttribute("data-inbox")) {
    if (window.console) console.error("onethread widget: the script tag needs data-inbox");
    return;
  }
  var data = function (name) {
    var value = script.getAttribute("data-" + name);
    return value && value.trim() ? value.trim() : null;
  };
  var inboxId = data("inbox");
  var origin = new URL(script.src, location.href).origin;
  var apiBase = origin + "/api/v1/widget/" + encodeURIComponent(inboxId);
  var socketBase = origin.replace(/^http/, "ws") + "/api/v1/widget/" + encodeURIComponent(inboxId) + "/ws";
  var storageKey = "onethread:widget:" + inboxId + ":token";
  var PING_MS = 25000;
  var MAX_BACKOFF_MS = 30000;

  var state = {
    token: null,
    messages: [], // {id, author, text, buttons, client_message_id, pending, failed}
    socket: null,
    backoff: 1000,
    pingTimer: null,
    stopped: false,
    open: false,
    unread: 0,
    synced: false,
    connectedBefore: false,
  };

  // -- storage: private modes may refuse it; the visitor then lasts one page view ----------
  function loadToken() {
    try { return window.localStorage.getItem(storageKey); } catch (e) { return null; }
  }
  function saveToken(token) {
    state.token = token;
    try { window.localStorage.setItem(storageKey, token); } catch (e) { /* ignored */ }
  }

  // -- HTTP -------------------------------------------------------------------------------
  function call(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token && path !== "/session") headers.Authorization = "Bearer " + state.token;
    return fetch(apiBase + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      mode: "cors",
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (json) {
        if (!response.ok) {
          var error = new Error((json && json.error && json.error.message) || response.statusText);
          error.status = response.status;
          throw error;
        }
        return json;
      });
    });
  }

  function startSession() {
    return call("POST", "/session", {
      visitor_token: loadToken(),
      user_id: data("user-id"),
      user_hash: data("user-hash"),
      name: data("name"),
      email: data("email"),
      phone: data("phone"),
    }).then(function (session) {
      saveToken(session.visitor_token);
      merge(session.messages);
      applyLook(session.inbox); // renders
      return session;
    });
  }

  function refetchHistory() {
    return call("GET", "/messages").then(merge).catch(function () { /* next reconnect retries */ });
  }

  // -- the message list -------------------------------------------------------------------
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  function find(message) {
    for (var i = 0; i < state.messages.length; i++) {
      var known = state.messages[i];
      if (known.id != null && known.id === message.id) return i;
      if (message.client_message_id && known.client_message_id === message.client_message_id) return i;
    }
    return -1;
  }

  function merge(messages) {
    var fresh = 0;
    (messages || []).forEach(function (message) {
      var index = find(message);
      if (index === -1) {
        state.messages.push(message);
        if (message.author !== "visitor") fresh += 1;
      } else {
        state.messages[index] = message;
      }
    });
    state.messages.sort(function (a, b) {
      return (a.id == null ? Infinity : a.id) - (b.id == null ? Infinity : b.id);
    });
    return fresh;
  }

  function send(text, clientId) {
    text = text.trim();
    if (!text) return;
    clientId = clientId || newClientId();
    var index = find({ client_message_id: clientId });
    var draft = { id: null, author: "visitor", text: text, buttons: [], client_message_id: clientId, pending: true };
    if (index === -1) state.messages.push(draft); else state.messages[index] = draft;
    render();
    var body = { text: text, client_message_id: clientId };
    call("POST", "/messages", body)
      .catch(function (error) {
        if (error.status !== 401) throw error;
        return startSession().then(function () { connect(); return call("POST", "/messages", body); });
      })
      .then(function (stored) {
        merge([stored]);
        render();
        if (!state.synced && state.socket && state.socket.readyState === 1) {
          state.socket.send(JSON.stringify({ type: "sync" })); // our contact exists now
          state.synced = true;
        }
      })
      .catch(function () {
        draft.pending = false;
        draft.failed = true;
        render();
      });
  }

  // -- the live connection ----------------------------------------------------------------
  function connect() {
    if (state.stopped || !state.token) return;
    if (state.socket) { state.socket.onclose = null; state.socket.close(); }
    var socket = new WebSocket(socketBase + "?token=" + encodeURIComponent(state.token));
    state.socket = socket;
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "ready") {
        state.backoff = 1000;
        state.synced = false;
        if (state.messages.some(function (m) { return m.author === "visitor" && m.id != null; })) {
          socket.send(JSON.stringify({ type: "sync" }));
          state.synced = true;
        }
        // The session brought the history; after a reconnect, fetch what was missed.
        if (state.connectedBefore) refetchHistory().then(render);
        state.connectedBefore = true;
      } else if (frame.type === "message") {
        noteArrivals(merge([frame.message]));
        render();
      } else if (frame.type === "resync") {
        refetchHistory().then(render);
      }
    };
    socket.onopen = function () {
      clearInterval(state.pingTimer);
      state.pingTimer = setInterval(function () {
        if (socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" }));
      }, PING_MS);
    };
    socket.onclose = function (event) {
      clearInterval(state.pingTimer);
      if (event.code === 4403 || event.code === 4404) { state.stopped = true; return; }
      var delay = state.backoff + Math.floor(Math.random() * 500);
      state.backoff = Math.min(state.backoff * 2, MAX_BACKOFF_MS);
      setTimeout(function () {
        if (event.code === 4401) startSession().then(connect, scheduleRetry); else connect();
      }, delay);
    };
  }

  function scheduleRetry() {
    setTimeout(connect, state.backoff);
  }

  // -- the interface (shadow DOM) ---------------------------------------------------------
  // A tag of its own, styled through the CSSOM with !important: page rules for div, or
  // for everything, cannot hide or move it, and a strict CSP (no inline styles) allows it.
  var host = document.createElement("onethread-chat");
  host.setAttribute("data-inbox", inboxId);
  [
    ["display", "block"], ["position", "static"], ["visibility", "visible"],
    ["opacity", "1"], ["transform", "none"], ["filter", "none"],
  ].forEach(function (rule) { host.style.setProperty(rule[0], rule[1], "important"); });
  var root = host.attachShadow({ mode: "open" });
  var CSS =
    ":host{all:initial}" +
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:var(--ot-color,#4f46e5);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646}" +
    ".bubble svg{width:26px;height:26px;fill:currentColor}" +
    ".badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#dc2626;" +
    "color:#fff;font-size:12px;line-height:20px;padding:0 5px}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);height:520px;" +
    "max-height:calc(100vh - 120px);display:flex;flex-direction:column;background:#fff;color:#111;border-radius:12px;" +
    "box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;z-index:2147483647;font-size:14px}" +
    ".panel[hidden]{display:none}" +
    "header{display:flex;align-items:center;justify-content:space-between;padding:14px 16px;" +
    "background:var(--ot-color,#4f46e5);color:#fff;font-weight:600;font-size:16px}" +
    "header button{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f8fafc}" +
    ".msg{max-width:80%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word}" +
    ".them{align-self:flex-start;background:#e5e7eb}" +
    ".me{align-self:flex-end;background:var(--ot-color,#4f46e5);color:#fff}" +
    ".pending{opacity:.6}.failed{outline:2px solid #dc2626;cursor:pointer}" +
    ".greeting{align-self:flex-start;background:#e5e7eb}" +
    ".choices{display:flex;flex-wrap:wrap;gap:6px}" +
    ".choices button{border:1px solid var(--ot-color,#4f46e5);color:var(--ot-color,#4f46e5);background:#fff;" +
    "border-radius:14px;padding:4px 10px;cursor:pointer}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}" +
    "textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:8px;padding:8px;font-size:14px;height:40px;color:#111}" +
    "form button{border:0;border-radius:8px;padding:0 14px;background:var(--ot-color,#4f46e5);color:#fff;cursor:pointer}";
  root.innerHTML =
    '<button class="bubble" type="button" aria-label="Open chat" aria-expanded="false">' +
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>' +
    '<span class="badge" hidden></span></button>' +
    '<section class="panel" role="dialog" aria-label="Chat" hidden>' +
    '<header><span class="title">Chat with us</span>' +
    '<button type="button" class="close" aria-label="Close chat">&times;</button></header>' +
    '<div class="log" role="log" aria-live="polite"></div>' +
    '<form><textarea aria-label="Message" placeholder="Write a message…" rows="1" maxlength="5000"></textarea>' +
    '<button type="submit" aria-label="Send">Send</button></form></section>';
  if (window.CSSStyleSheet && "adoptedStyleSheets" in root && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet(); // constructed sheets pass a CSP without 'unsafe-inline'
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
  }

  var bubble = root.querySelector(".bubble");
  var badge = root.querySelector(".badge");
  var panel = root.querySelector(".panel");
  var title = root.querySelector(".title");
  var log = root.querySelector(".log");
  var form = root.querySelector("form");
  var input = root.querySelector("textarea");
  var greeting = "";

  function applyLook(look) {
    host.style.setProperty("--ot-color", look.color);
    title.textContent = look.title;
    panel.setAttribute("aria-label", look.title);
    greeting = look.greeting;
    render();
  }

  function noteArrivals(count) {
    if (state.open || !count) return;
    state.unread += count;
    badge.textContent = String(state.unread);
    badge.hidden = false;
  }

  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    if (open) {
      state.unread = 0;
      badge.hidden = true;
      log.scrollTop = log.scrollHeight;
      input.focus();
    }
  }

  function line(className, text) {
    var element = document.createElement("div");
    element.className = "msg " + className;
    element.textContent = text; // never innerHTML: messages are text
    return element;
  }

  function render() {
    log.textContent = "";
    if (greeting) log.appendChild(line("greeting", greeting));
    state.messages.forEach(function (message) {
      var mine = message.author === "visitor";
      var element = line(mine ? "me" : "them", message.text);
      element.setAttribute("data-author", message.author);
      if (message.pending) element.classList.add("pending");
      if (message.failed) {
        element.classList.add("failed");
        element.title = "Not sent. Click to retry.";
        element.addEventListener("click", function () { send(message.text, message.client_message_id); });
      }
      log.appendChild(element);
      if (!mine && message.buttons && message.buttons.length) {
        var choices = document.createElement("div");
        choices.className = "choices";
        message.buttons.forEach(function (choice) {
          var button = document.createElement("button");
          button.type = "button";
          button.textContent = choice.title;
          button.addEventListener("click", function () { send(choice.title); });
          choices.appendChild(button);
        });
        log.appendChild(choices);
      }
    });
    log.scrollTop = log.scrollHeight;
  }

  bubble.addEventListener("click", function () { setOpen(!state.open); });
  root.querySelector(".close").addEventListener("click", function () { setOpen(false); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
    input.value = "";
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(input.value);
      input.value = "";
    }
  });

  function begin() {
    startSession().then(connect, function (error) {
      if (window.console) console.error("onethread widget: " + error.message);
      if (error.status === 403 || error.status === 404) return; // not for this site
      setTimeout(begin, state.backoff);
      state.backoff = Math.min(state.backoff * 2, MAX_BACKOFF_MS);
    });
  }

  function mount() {
    document.body.appendChild(host);
    begin();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
