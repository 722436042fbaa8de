// The live event socket (/api/v1/events); reconnects with back-off and reports its state.
import { token } from "./api.js";

export function connectEvents({ onEvent, onState }) {
  let socket = null;
  let attempt = 0;
  let timer = 0;
  let stopped = false;

  function open() {
    if (stopped) return;
    const url = new URL("/api/v1/events", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", token());
    socket = new WebSocket(url);
    socket.onopen = () => {
      // After a gap the caller reloads what it shows, since events were missed meanwhile.
      onState(attempt > 0 ? "resumed" : "live");
      attempt = 0;
    };
    socket.onmessage = (message) => {
      try { onEvent(JSON.parse(message.data)); } catch (error) { console.error("bad event", error); }
    };
    socket.onclose = () => {
      if (stopped) return;
      onState("down");
      attempt += 1;
      timer = setTimeout(open, Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2));
    };
  }

  open();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      socket?.close();
    },
  };
}
