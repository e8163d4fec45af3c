// Perfect negotiation (W3C WebRTC 1.0 §10.7 example; MDN "Perfect negotiation"):
// the polite peer (the client) yields on glare, the impolite one (the therapist) ignores.
// `beforeAnswer` runs between applying a remote offer and answering it: the polite
// side adds its tracks there, so the first negotiation of a call has one offerer.
//
// ICE restart: when the network changes (Wi-Fi to cable, a link down and up, the relay
// restarted), consent checks fail and ICE goes "disconnected". After RESTART_AFTER_MS
// still disconnected (or at once on "failed") this side restarts ICE: new credentials
// and candidates over the same RTCPeerConnection, no rejoin. While it is not back it
// tries again every RETRY_MS. Both sides may restart at once: perfect negotiation
// settles the collision like any other.
export const RESTART_AFTER_MS = 2000;
export const RETRY_MS = 8000;

export class Negotiator extends EventTarget {
  constructor({ iceServers, iceTransportPolicy, polite, send, beforeAnswer = async () => {} }) {
    super();
    this.polite = polite;
    this.send = send;
    this.beforeAnswer = beforeAnswer;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    this.queue = Promise.resolve(); // signals are applied strictly in arrival order
    this.pc = new RTCPeerConnection({ iceServers, iceTransportPolicy });
    this.pc.onnegotiationneeded = () => this.#offer();
    this.pc.onicecandidate = ({ candidate }) => this.send({ candidate: candidate ? candidate.toJSON() : null });
    this.restarts = 0;
    this.restartTimer = null;
    this.pc.oniceconnectionstatechange = () => {
      this.#watchIce();
      this.#fire("state");
    };
    this.pc.onconnectionstatechange = () => this.#fire("state");
    this.pc.ontrack = ({ track, streams }) => this.#fire("track", { track, stream: streams[0] });
    this.pc.ondatachannel = ({ channel }) => this.#fire("datachannel", { channel });
  }

  #fire(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  async #offer() {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.send({ description: this.pc.localDescription.toJSON() });
    } catch (err) {
      this.#fire("error", { message: err.message });
    } finally {
      this.makingOffer = false;
    }
  }

  /** Apply a relayed signal; chained so a candidate never races setRemoteDescription. */
  handle(signal) {
    this.queue = this.queue.then(() => this.#apply(signal)).catch((err) => this.#fire("error", { message: err.message }));
    return this.queue;
  }

  async #apply({ description, candidate }) {
    if (description) {
      const readyForOffer = !this.makingOffer && (this.pc.signalingState === "stable" || this.settingRemoteAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      this.settingRemoteAnswer = description.type === "answer";
      await this.pc.setRemoteDescription(description);
      this.settingRemoteAnswer = false;
      if (description.type === "offer") {
        await this.beforeAnswer();
        await this.pc.setLocalDescription();
        this.send({ description: this.pc.localDescription.toJSON() });
      }
    } else if (candidate) {
      // null / empty candidate = end of candidates; browsers infer it, nothing to apply
      if (!candidate.candidate) return;
      try {
        await this.pc.addIceCandidate(candidate);
      } catch (err) {
        if (!this.ignoreOffer) throw err;
      }
    }
  }

  /** True while media flows (ICE connected or completed). */
  get iceUp() {
    return ["connected", "completed"].includes(this.pc.iceConnectionState);
  }

  #watchIce() {
    const state = this.pc.iceConnectionState;
    if (this.iceUp) clearTimeout(this.restartTimer);
    else if (state === "failed") this.restartIce();
    else if (state === "disconnected") {
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => this.restartIce(), RESTART_AFTER_MS);
    }
    // "checking"/"new": a pending retry stays armed
  }

  /** Restart ICE now, and again every RETRY_MS until media flows. */
  restartIce() {
    clearTimeout(this.restartTimer);
    if (this.pc.signalingState === "closed" || this.iceUp) return;
    this.restarts += 1;
    this.pc.restartIce();
    this.#fire("restart", { count: this.restarts });
    this.restartTimer = setTimeout(() => this.restartIce(), RETRY_MS);
  }

  close() {
    clearTimeout(this.restartTimer);
    this.pc.close();
  }
}
