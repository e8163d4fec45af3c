// Why the /rtc socket was refused or closed, in plain words, and what to do next.
// Codes come from the server's connect_error message or its `error` event (docs/signaling.md).
const VERDICTS = {
  unauthenticated: {
    text: "Your sign-in has ended, so the call cannot connect. Sign in again to rejoin the session.",
    action: "signin",
  },
  session_expired: {
    text: "You have been signed in for the longest time allowed, so the call was closed to keep it private. Sign in again to rejoin the session.",
    action: "signin",
  },
  too_many_connections: {
    text: "Your account has too many calls or windows open at once. Close the others, then reload this page.",
    action: "reload",
  },
  rate_limited: {
    text: "Too many connection attempts came from your network. The page tries again in 30 seconds.",
    retryAfterSeconds: 30,
  },
};

/** The plain-language verdict for a refusal or closing code, or null for a passing fault. */
function verdictFor(code) {
  if (code !== "origin_not_allowed") return VERDICTS[code] || null;
  const origin = window.location.origin;
  return {
    text:
      `The call cannot connect: this page's address, ${origin}, is not on the server's list of ` +
      `addresses allowed to open calls. Whoever runs the server should add ${origin} to ` +
      "TELETHERAPY_ALLOWED_ORIGINS and restart it, then reload this page.",
    action: "reload",
  };
}

// A handshake refused for its Origin fails before Socket.IO can give a reason, so after a
// failed connect the page asks the server (same origin) whether its own origin is accepted.
class OriginCheck {
  constructor(url, minIntervalMs = 10000) {
    Object.assign(this, { url, minIntervalMs, last: -Infinity });
  }

  /** true only when the server says this page's origin is not accepted. */
  async refused() {
    if (performance.now() - this.last < this.minIntervalMs) return false;
    this.last = performance.now();
    const query = new URLSearchParams({ origin: window.location.origin });
    try {
      const res = await fetch(`${this.url}?${query}`, { headers: { Accept: "application/json" } });
      return res.ok && (await res.json()).accepted === false;
    } catch {
      return false; // the server is down or the answer is not JSON: keep reconnecting
    }
  }
}

// Watches one RtcSocket: a known refusal or closing reason ends the call with its words and
// a link (or a later retry); anything else is a passing fault, and Socket.IO reconnects.
export class SocketClosure {
  constructor(socket, { originUrl, loginUrl, setStatus, stop, isFinished }) {
    Object.assign(this, { socket, loginUrl, setStatus, stop, isFinished });
    this.originCheck = new OriginCheck(originUrl);
    socket.addEventListener("connect_error", (e) => this.#refused(e.detail.message));
    socket.addEventListener("disconnect", (e) => this.#disconnected(e.detail.reason));
    socket.addEventListener("error", (e) => this.#serverError(e.detail.code));
  }

  /** Show the verdict for `code` if it has one; true if it did. */
  explain(code) {
    const verdict = verdictFor(code);
    if (!verdict || this.isFinished()) return Boolean(verdict);
    if (verdict.retryAfterSeconds) {
      this.setStatus(verdict.text, "poor");
      this.#reconnectIn(verdict.retryAfterSeconds * 1000);
    } else {
      this.stop(verdict.text, { action: this.#link(verdict.action) });
    }
    return true;
  }

  #link(action) {
    const signIn = `${this.loginUrl}?${new URLSearchParams({ next: window.location.pathname })}`;
    if (action === "signin") return [signIn, "Sign in again"];
    return action === "reload" ? [window.location.href, "Reload this page"] : null;
  }

  async #refused(code) {
    if (this.isFinished() || this.explain(code)) return;
    this.setStatus("Reconnecting…", "reconnecting");
    if (await this.originCheck.refused()) this.explain("origin_not_allowed");
  }

  #serverError(code) {
    if (code === "signed_out") window.location.assign(this.loginUrl);
    else this.explain(code);
  }

  #disconnected(reason) {
    if (this.isFinished()) return;
    this.setStatus("Reconnecting…", "reconnecting");
    // Closed by the server without a reason the page knows: connect again, and the
    // server's connect check either lets the page back in or says why not.
    if (reason === "io server disconnect") this.#reconnectIn(1000);
  }

  #reconnectIn(ms) {
    setTimeout(() => this.isFinished() || this.socket.reconnect(), ms);
  }
}
