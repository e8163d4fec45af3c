// Camera and microphone: permission, device lists, input level, switching mid-call.
const MESSAGES = {
  NotAllowedError: "Your browser blocked the camera or microphone. Allow them in the address bar, then press “Try again” — or continue with chat only.",
  NotFoundError: "No camera or microphone was found. Plug one in and press “Try again”, or continue with chat only.",
  NotReadableError: "Another program is using your camera or microphone. Close it and press “Try again”.",
  OverconstrainedError: "The selected device is not available any more. Pick another one.",
};

export function explain(err) {
  return MESSAGES[err.name] || `The camera or microphone could not start (${err.name}). Press “Try again”.`;
}

export class LocalMedia {
  constructor({ video }) {
    this.wantVideo = video;
    this.stream = new MediaStream();
    this.meter = null;
  }

  async start({ audioId, videoId } = {}) {
    const constraints = {
      audio: audioId ? { deviceId: { exact: audioId } } : true,
      video: this.wantVideo ? (videoId ? { deviceId: { exact: videoId } } : { width: 640, height: 360 }) : false,
    };
    const fresh = await navigator.mediaDevices.getUserMedia(constraints);
    for (const t of this.stream.getTracks()) {
      t.stop();
      this.stream.removeTrack(t);
    }
    for (const t of fresh.getTracks()) this.stream.addTrack(t);
    this.#meter();
    return this.stream;
  }

  async devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      audio: all.filter((d) => d.kind === "audioinput"),
      video: all.filter((d) => d.kind === "videoinput"),
    };
  }

  track(kind) {
    return this.stream.getTracks().find((t) => t.kind === kind) || null;
  }

  /** Toggle a kind on/off; returns the new enabled state. */
  toggle(kind) {
    const t = this.track(kind);
    if (!t) return false;
    t.enabled = !t.enabled;
    return t.enabled;
  }

  /** Switch one device; the caller replaces the sender's track (no renegotiation). */
  async switchDevice(kind, deviceId) {
    const constraints = kind === "audio" ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId } } };
    const fresh = await navigator.mediaDevices.getUserMedia(constraints);
    const next = fresh.getTracks()[0];
    const old = this.track(kind);
    if (old) {
      next.enabled = old.enabled;
      old.stop();
      this.stream.removeTrack(old);
    }
    this.stream.addTrack(next);
    if (kind === "audio") this.#meter();
    return next;
  }

  #meter() {
    const audio = this.track("audio");
    if (!audio || !window.AudioContext) return;
    if (this.meter) this.meter.ctx.close();
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(new MediaStream([audio])).connect(analyser);
    this.meter = { ctx, analyser, data: new Uint8Array(analyser.fftSize) };
  }

  /** Input level 0..1 (RMS of the current buffer). */
  level() {
    if (!this.meter) return 0;
    const { analyser, data } = this.meter;
    analyser.getByteTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += ((v - 128) / 128) ** 2;
    return Math.min(1, Math.sqrt(sum / data.length) * 4);
  }

  stop() {
    for (const t of this.stream.getTracks()) t.stop();
    if (this.meter) this.meter.ctx.close();
  }
}
