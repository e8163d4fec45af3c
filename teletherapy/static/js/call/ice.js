// TURN credentials are time-limited (coturn REST style): renew them at 80 % of their life
// so a long session can still restart ICE through the relay (docs/security.md, row 20).
export class IceRefresher {
  constructor({ url, ttlSeconds, onFresh }) {
    Object.assign(this, { url, ttlSeconds, onFresh, timer: null });
  }

  /** Renew before these servers' credentials expire (only TURN servers carry any). */
  schedule(iceServers) {
    if (!iceServers.some((s) => s.username)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#refresh(iceServers), this.ttlSeconds * 800);
  }

  async #refresh(current) {
    let next = current;
    try {
      const res = await fetch(this.url, { headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(String(res.status));
      const body = await res.json();
      next = body.ice_servers;
      this.onFresh({ iceServers: next, iceTransportPolicy: body.ice_transport_policy });
    } catch {
      // try again soon; the old credentials still work for a while
    }
    this.schedule(next);
  }
}
