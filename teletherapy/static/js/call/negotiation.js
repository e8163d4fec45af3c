// Perfect negotiation (W3C WebRTC 1.0 §10.7 example; MDN "Perfect negotiation"):
// the polite peer (the client) yields on glare, the impolite one (the therapist) ignores.
// `beforeAnswer` runs between applying a remote offer and answering it: the polite
// side adds its tracks there, so the first negotiation of a call has one offerer.
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
    this.pc.oniceconnectionstatechange = () => {
      if (this.pc.iceConnectionState === "failed") this.pc.restartIce();
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

  restartIce() {
    this.pc.restartIce();
  }

  close() {
    this.pc.close();
  }
}
