// The agents' websocket (docs/realtime.md). The app works without it: when the browser
// has no WebSocket, or the endpoint is missing or refuses, the state is "polling" (the
// header says the app is not live) and the lists refresh every POLL_MS.
const PING_MS = 10000;
const RETRY_MS = 3000;
export const POLL_MS = 15000;

export class Live {
  constructor(handlers) {
    // {event, presence, collision, notification, hello, refetch, state("live" | "polling")}
    this.handlers = handlers;
    this.socket = null;
    this.lastEventId = null;
    this.viewing = null;
    this.pollTimer = null;
  }

  start() {
    if (!("WebSocket" in window)) return this.poll();
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const after = this.lastEventId ? `?after=${this.lastEventId}` : "";
    let opened = false;
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/realtime${after}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      opened = true;
      this.stopPolling();
      this.handlers.state("live");
      this.send({ type: "view", conversation_id: this.viewing });
      this.pinger = setInterval(() => this.send({ type: "ping" }), PING_MS);
    });
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", (closed) => {
      clearInterval(this.pinger);
      this.socket = null;
      this.poll();
      if (closed.code === 4401) return;
      // Never opened: the endpoint is not there (yet); retry slowly, keep polling meanwhile.
      setTimeout(() => this.connect(), opened ? RETRY_MS : RETRY_MS * 10);
    });
  }

  receive(message) {
    if (message.type === "hello") this.lastEventId = message.last_event_id;
    if (message.type === "event") this.lastEventId = message.event.id;
    if (message.type === "refetch") this.lastEventId = message.last_event_id;
    const handler = this.handlers[message.type];
    if (handler) handler(message);
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  view(conversationId) {
    this.viewing = conversationId;
    this.send({ type: "view", conversation_id: conversationId });
  }

  typing(conversationId, kind) {
    this.send({ type: "typing", conversation_id: conversationId, kind });
  }

  poll() {
    this.handlers.state("polling");
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.handlers.refetch({ polled: true }), POLL_MS);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}
