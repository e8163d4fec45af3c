// The /rtc Socket.IO connection: acknowledged emits, automatic reconnect and re-join.
import { io } from "/vendor/socket.io.esm.min.js";

export class RtcSocket extends EventTarget {
  constructor() {
    super();
    // websocket only: several server processes need no sticky sessions (docs/deploy.md)
    this.socket = io("/rtc", { transports: ["websocket"], withCredentials: true });
    this.socket.on("connect", () => this.#fire("connect"));
    this.socket.on("disconnect", (reason) => this.#fire("disconnect", { reason }));
    this.socket.on("connect_error", (err) => this.#fire("connect_error", { message: err.message }));
    for (const name of ["peer_joined", "peer_left", "signal", "chat", "session_ended", "replaced", "media_mode", "error"]) {
      this.socket.on(name, (data) => this.#fire(name, data));
    }
  }

  #fire(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get connected() {
    return this.socket.connected;
  }

  /** Emit with an acknowledgement; resolves to the ack body or {ok:false, error:{code:"timeout"}}. */
  request(event, payload, timeoutMs = 8000) {
    return new Promise((resolve) => {
      this.socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
        if (err) resolve({ ok: false, error: { code: "timeout", message: "no answer from the server" } });
        else resolve(ack);
      });
    });
  }

  /** Connect again after the server refused or closed this socket (no automatic retry then). */
  reconnect() {
    this.socket.connect();
  }

  close() {
    this.socket.io.opts.reconnection = false;
    this.socket.disconnect();
  }
}
