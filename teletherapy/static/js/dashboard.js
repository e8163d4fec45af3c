// Therapist dashboard: show (and announce) when a client is in the waiting room.
const announcer = document.getElementById("waiting-announcer");
let known = new Set();

async function refresh() {
  try {
    const res = await fetch(announcer.dataset.url, { headers: { Accept: "application/json" } });
    if (!res.ok) return;
    const { waiting } = await res.json();
    const now = new Set(waiting);
    for (const row of document.querySelectorAll("[data-session-row]")) {
      const badge = row.querySelector("[data-waiting-badge]");
      if (badge) badge.hidden = !now.has(row.dataset.sessionRow);
      if (badge && now.has(row.dataset.sessionRow) && !known.has(row.dataset.sessionRow)) {
        announcer.textContent = badge.textContent;
      }
    }
    known = now;
  } catch {
    // offline for a moment: the next round tries again
  }
}

if (announcer) {
  refresh();
  setInterval(refresh, 10000);
}
