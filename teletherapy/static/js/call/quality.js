// Connection quality from getStats(): shown in words and sent as `quality` samples.
export function describe(sample) {
  if (!sample) return { state: "connecting", text: "Connecting…" };
  if (sample.packet_loss_pct > 5 || sample.rtt_ms > 400) return { state: "poor", text: "Your connection is weak" };
  return { state: "connected", text: "Connected" };
}

export class QualityMonitor {
  constructor(pc) {
    this.pc = pc;
    this.prev = null;
  }

  /** One sample: RTT, jitter, loss % and receive bitrate since the last call. */
  async sample() {
    const stats = await this.pc.getStats();
    let rtt = 0, jitter = 0, lost = 0, received = 0, bytes = 0, framesDropped = 0, framesDecoded = 0;
    stats.forEach((r) => {
      if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded" && r.currentRoundTripTime !== undefined) {
        rtt = r.currentRoundTripTime * 1000;
      }
      if (r.type === "inbound-rtp") {
        jitter = Math.max(jitter, (r.jitter || 0) * 1000);
        lost += Math.max(0, r.packetsLost || 0);
        received += r.packetsReceived || 0;
        bytes += r.bytesReceived || 0;
        framesDropped += r.framesDropped || 0;
        framesDecoded += r.framesDecoded || 0;
      }
    });
    const now = performance.now();
    let bitrate = 0, loss = 0;
    if (this.prev) {
      const seconds = (now - this.prev.now) / 1000;
      bitrate = seconds > 0 ? ((bytes - this.prev.bytes) * 8) / 1000 / seconds : 0;
      const dLost = lost - this.prev.lost, dRecv = received - this.prev.received;
      loss = dLost + dRecv > 0 ? (100 * dLost) / (dLost + dRecv) : 0;
    }
    this.prev = { now, bytes, lost, received };
    return {
      rtt_ms: round(rtt), jitter_ms: round(jitter), packet_loss_pct: round(Math.min(100, Math.max(0, loss))),
      bitrate_kbps: round(Math.max(0, bitrate)), frames_dropped: framesDropped, frames_decoded: framesDecoded,
    };
  }
}

function round(x) {
  return Math.round(x * 100) / 100;
}

/** Transport security and media flow of `pc`, never content (window.callDiagnostics). */
export async function diagnostics(pc) {
  const out = { pcState: pc.connectionState, framesDecoded: 0, audioPackets: 0, localCandidateTypes: [], pair: null };
  const stats = await pc.getStats();
  stats.forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") out.framesDecoded += r.framesDecoded || 0;
    if (r.type === "inbound-rtp" && r.kind === "audio") out.audioPackets += r.packetsReceived || 0;
    if (r.type === "transport") Object.assign(out, { dtlsState: r.dtlsState, srtpCipher: r.srtpCipher, tlsVersion: r.tlsVersion });
    if (r.type === "local-candidate") out.localCandidateTypes.push(r.candidateType);
    if (r.type === "transport" && r.selectedCandidatePairId) {
      const pair = stats.get(r.selectedCandidatePairId);
      const type = (id) => (stats.get(id) || {}).candidateType || null;
      if (pair) out.pair = { local: type(pair.localCandidateId), remote: type(pair.remoteCandidateId) };
    }
  });
  return out;
}
