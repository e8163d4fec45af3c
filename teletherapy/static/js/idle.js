// The idle sign-out, announced before it happens (docs/security.md, row 7).
//
// The server signs a login out after SESSION_IDLE_MINUTES without a page or a
// heartbeat; templates/base.html puts the seconds left on <body>. Shortly before
// (SESSION_IDLE_WARNING_SECONDS), this asks the server how long is really left
// (another tab may have been in use: GET /session/remaining is not activity) and
// then shows a dialog: "Stay signed in" calls /keepalive, "Sign out now" posts
// the sign-out, Escape stays. When the time is up, the page goes to the sign-in
// page, where the server's message says why.
//
// The call page (data-idle-mode="call") shows no warning: a call is activity.
// Its own heartbeat (call/main.js, every 60 s) keeps the login; with an idle
// limit under three minutes this beats faster, so the call outlives it too.

const body = document.body;
const data = body.dataset;
const TICK_MS = 250;
const SPARE_MS = 600; // after the deadline, so the server has seen it pass

const json = async (url) => {
  const r = await fetch(url, {
    credentials: "same-origin",
    redirect: "manual", // signed out: the sign-in page's message stays for us
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  if (r.type === "opaqueredirect" || r.status === 401) return null; // signed out
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
};

const idleSeconds = Number(data.idleSeconds);

if (data.idleMode === "call") {
  const beat = (idleSeconds * 1000) / 3;
  if (beat < 60000) setInterval(() => json(data.idleKeepaliveUrl).catch(() => {}), Math.max(beat, 1000));
} else if (data.idleMode === "warn") {
  warn();
}

function warn() {
  const dialog = document.getElementById("idle-dialog");
  const stayButton = document.getElementById("idle-stay");
  const inWords = document.getElementById("idle-in");
  const countdown = document.getElementById("idle-countdown");
  const problem = document.getElementById("idle-problem");
  const warning = Number(data.idleWarning) * 1000;
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("teletherapy-idle") : null;
  let idleAt = 0; // performance.now() of the idle sign-out
  let limitAt = 0; // ... and of the absolute one (no warning helps there)
  let timer = 0;
  let ticker = 0;
  let busy = false;
  let returnFocus = null;

  const now = () => performance.now();
  const later = (fn, at) => {
    clearTimeout(timer);
    timer = setTimeout(fn, Math.max(0, at - now()));
  };

  function set(left) {
    idleAt = now() + left.idle_seconds * 1000;
    limitAt = now() + left.limit_seconds * 1000;
  }

  function plan() {
    if (limitAt <= idleAt) later(finish, limitAt + SPARE_MS);
    else if (dialog.open) later(finish, idleAt + SPARE_MS);
    else later(check, idleAt - warning);
  }

  // Ask the server, then warn only when the time left is really short.
  async function check() {
    let left;
    try {
      left = await json(data.idleStatusUrl);
    } catch {
      later(check, now() + 5000); // offline for a moment: ask again soon
      return;
    }
    if (left === null) return signIn();
    set(left);
    if (idleAt - now() > warning + 1000) {
      close();
    } else if (!dialog.open) {
      open();
    }
    plan();
  }

  // The time is up here, or the absolute limit came: make sure, then go.
  async function finish() {
    let left;
    try {
      left = await json(data.idleStatusUrl); // a lapsed login ends with this request
    } catch {
      later(finish, now() + 5000); // offline: the page stays readable until we know
      return;
    }
    if (left === null) return signIn();
    set(left); // still signed in: another tab was used, or the clocks differ a little
    if (idleAt - now() > warning + 1000) close();
    plan();
  }

  function signIn() {
    clearTimeout(timer);
    clearInterval(ticker);
    const here = location.pathname + location.search;
    location.assign(`${data.idleLoginUrl}?next=${encodeURIComponent(here)}`);
  }

  function words(seconds) {
    if (seconds >= 60 && seconds % 60 === 0) {
      const m = seconds / 60;
      return `${m} minute${m === 1 ? "" : "s"}`;
    }
    return `${seconds} second${seconds === 1 ? "" : "s"}`;
  }

  function showTime() {
    const s = Math.max(0, Math.ceil((idleAt - now()) / 1000));
    countdown.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function open() {
    const s = Math.max(0, Math.round((idleAt - now()) / 1000));
    inWords.textContent = words(s >= 55 && s <= 65 ? 60 : s);
    problem.hidden = true;
    showTime();
    returnFocus = document.activeElement;
    dialog.showModal(); // the page behind goes inert; focus moves to "Stay signed in"
    stayButton.focus();
    ticker = setInterval(showTime, TICK_MS);
  }

  function close() {
    if (!dialog.open) return;
    clearInterval(ticker);
    dialog.close();
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
  }

  async function stay() {
    if (busy) return;
    busy = true;
    try {
      const ok = await json(data.idleKeepaliveUrl);
      if (ok === null) return signIn();
      idleAt = now() + idleSeconds * 1000;
      close();
      plan();
      channel?.postMessage("active");
    } catch {
      problem.hidden = false;
    } finally {
      busy = false;
    }
  }

  stayButton.addEventListener("click", stay);
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault(); // Escape means "stay signed in", never a silent close
    stay();
  });
  // Another tab was used, or this one comes back after its timers were slowed.
  channel?.addEventListener("message", () => check());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });

  set({ idle_seconds: Number(data.idleLeft), limit_seconds: Number(data.idleLimitLeft) });
  plan();
  channel?.postMessage("active"); // a page loaded: other tabs check their clocks
}
