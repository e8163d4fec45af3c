// The call page: pre-call check → join (waiting room) → live call → rating page.
import { BandwidthAdvisor, describeSwitch, OFFER_TEXT } from "./bandwidth.js";
import { ChatPanel } from "./chat.js";
import { ChatToggle } from "./chat-toggle.js";
import { SocketClosure } from "./closure.js";
import { checkRelay, diagnose, HELP_AFTER_MS, helpText, relayText } from "./connection.js";
import { IceRefresher } from "./ice.js";
import { explain, LocalMedia } from "./media.js";
import { Negotiator } from "./negotiation.js";
import { describe, diagnostics, QualityMonitor } from "./quality.js";
import { RtcSocket } from "./rtc-socket.js";

const root = document.getElementById("call");
const cfg = { ...root.dataset }; // sessionId, modality, role, selfId, otherName, dashboardUrl, loginUrl, originUrl
const $ = (id) => document.getElementById(id);
const wantsMedia = cfg.modality !== "chat";

let media = null;
let mediaReady = Promise.resolve(null);
let socket = null;
let neg = null;
let chat = null;
let chatToggle = null;
let joinedOnce = false;
let closure = null;
let ice = { iceServers: [], iceTransportPolicy: "all" };
let polite = cfg.role === "client";
let monitor = null;
let qualityTimer = null;
let finished = false;
let relay = "unknown"; // the pre-call relay check: reachable | unreachable | none | unknown
let wasConnected = false; // media has flowed in this call: a drop is "reconnecting"
let helpTimer = null;
let audioOnly = false;
let lastSample = null;
const advisor = new BandwidthAdvisor();

function setStatus(text, state) {
  const el = $("connection-status");
  el.textContent = text;
  el.dataset.state = state;
}

function show(section) {
  for (const id of ["precall", "waiting", "stage"]) $(id).hidden = id !== section;
  const local = $("local-video");
  if (section === "stage" && local && cfg.modality === "video") root.querySelector(".videos").append(local);
  // the device pickers stay reachable during the call (switching uses replaceTrack)
  if (section === "stage" && wantsMedia) $("stage").append(root.querySelector(".devices"));
  root.dataset.phase = section;
}

// ---- pre-call check ------------------------------------------------------------
async function precall() {
  if (!wantsMedia) return;
  if (relay === "unknown") showRelay("checking");
  const local = new LocalMedia({ video: cfg.modality === "video" });
  $("media-error").hidden = true;
  // The peer connection waits for this: tracks are added whenever they are ready.
  mediaReady = (async () => {
    try {
      await local.start({ audioId: $("mic-select").value || undefined, videoId: $("camera-select").value || undefined });
      media = local;
      $("local-video").srcObject = local.stream;
      await fillDevices();
      meterLoop();
      return local;
    } catch (err) {
      $("media-error-text").textContent = explain(err);
      $("media-error").hidden = false;
      return null;
    }
  })();
  checkRelay(cfg.iceUrl).then(showRelay);
  await mediaReady;
}

function showRelay(state) {
  relay = state;
  const el = $("relay-check");
  el.textContent = relayText(state);
  el.dataset.state = state;
}

async function fillDevices() {
  const { audio, video } = await media.devices();
  fill($("mic-select"), audio, media.track("audio"));
  fill($("camera-select"), video, media.track("video"));
  $("camera-field").hidden = cfg.modality !== "video";
}

function fill(select, devices, track) {
  const current = track ? track.getSettings().deviceId : "";
  select.replaceChildren(
    ...devices.map((d, i) => new Option(d.label || `Device ${i + 1}`, d.deviceId, false, d.deviceId === current)),
  );
}

function meterLoop() {
  const bar = $("level-bar");
  const tick = () => {
    if (!media) return;
    bar.style.width = `${Math.round(media.level() * 100)}%`;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

// ---- joining and presence ------------------------------------------------------
function connect() {
  $("join-button").disabled = true;
  setStatus("Connecting…", "connecting");
  armHelp();
  socket = new RtcSocket();
  closure = new SocketClosure(socket, {
    originUrl: cfg.originUrl, loginUrl: cfg.loginUrl, setStatus, stop, isFinished: () => finished,
  });
  socket.addEventListener("connect", join);
  socket.addEventListener("peer_joined", () => onPeerJoined());
  socket.addEventListener("peer_left", () => onPeerLeft());
  socket.addEventListener("signal", (e) => ensurePeer().handle(e.detail));
  socket.addEventListener("chat", (e) => showChat(e.detail));
  socket.addEventListener("session_ended", (e) => e.detail.session_id === cfg.sessionId && finish(e.detail.rating_url));
  socket.addEventListener("media_mode", (e) => onMediaMode(e.detail));
  socket.addEventListener("replaced", () => stop("This session is open in another window or tab, so it was closed here."));
}

async function join() {
  const ack = await socket.request("join", { session_id: cfg.sessionId });
  if (!ack.ok) {
    if (ack.error.code === "session_closed") return stop("This session has ended.", { home: true });
    if (ack.error.code === "timeout") return; // the socket retries and fires connect again
    if (closure.explain(ack.error.code)) return;
    return stop(`You cannot join this session (${ack.error.message}).`, { home: true });
  }
  polite = ack.polite;
  ice = { iceServers: ack.ice_servers, iceTransportPolicy: cfg.icePolicy || "all" };
  iceRefresher.schedule(ice.iceServers);
  // history missed while reconnecting counts as unread; the first join's does not
  for (const m of ack.chat) if (chat.show(m) && joinedOnce) noticeChat(m);
  joinedOnce = true;
  chat.flush();
  // Back after a network change: an ICE restart offer sent while the socket was away
  // was lost, so send a fresh one on this side too (perfect negotiation settles both).
  if (neg && wasConnected && !neg.iceUp) neg.restartIce();
  if (ack.state === "live") {
    show("stage");
    ensurePeer();
  } else if (!neg || neg.pc.connectionState !== "connected") {
    show("waiting");
    setStatus("Waiting for the other person", "waiting");
  }
}

function showChat(message) {
  if (chat.show(message)) noticeChat(message);
}

function noticeChat(message) {
  if (message.sender_id !== cfg.selfId) chatToggle.arrived();
}

function onPeerJoined() {
  show("stage");
  // A peer that only re-connected its socket keeps its media path (an ICE restart
  // recovers a dropped one): leave it alone.
  if (neg && ["connected", "connecting", "disconnected"].includes(neg.pc.connectionState)) return;
  resetPeer();
  ensurePeer();
}

function onPeerLeft() {
  resetPeer();
  $("remote-video").srcObject = null;
  show("waiting");
  setStatus(`${cfg.otherName} left the call — waiting for them to come back`, "waiting");
}

// ---- the peer connection -------------------------------------------------------
// One offerer for the first negotiation: the impolite side (the therapist) offers
// as soon as its media is ready; the polite side adds its tracks while answering
// (Negotiator.beforeAnswer) and only offers itself if no offer came within
// POLITE_OFFER_AFTER_MS (e.g. the therapist's media path survived a reload here).
// Both offering at once is handled by perfect negotiation, but Chromium then
// sometimes never gathers candidates after the polite side's rollback.
const POLITE_OFFER_AFTER_MS = 5000;

function ensurePeer() {
  if (neg) return neg;
  let tracksAdded = false;
  const addLocalMedia = async (pc, answering = false) => {
    const ready = await mediaReady;
    if (tracksAdded || !neg || neg.pc !== pc) return;
    tracksAdded = true;
    if (ready) for (const t of ready.stream.getTracks()) pc.addTrack(t, ready.stream);
    // an offerer without devices still asks to receive; an answerer has the offer's
    else if (wantsMedia && !answering) pc.addTransceiver("audio", { direction: "recvonly" });
  };
  neg = new Negotiator({
    ...ice,
    polite,
    send: (signal) => socket.request("signal", { session_id: cfg.sessionId, ...signal }),
    beforeAnswer: () => addLocalMedia(pc, true),
  });
  neg.addEventListener("track", (e) => {
    const video = $("remote-video");
    if (video.srcObject !== e.detail.stream) video.srcObject = e.detail.stream || new MediaStream([e.detail.track]);
  });
  neg.addEventListener("state", () => onPeerState());
  neg.addEventListener("restart", (e) => { root.dataset.iceRestarts = String(e.detail.count); });
  root.dataset.pcId = Math.random().toString(36).slice(2); // the same id across ICE restarts
  const pc = neg.pc;
  // Media may still be starting (slow devices): it is added when it is there, which
  // triggers negotiation; without a device, still receive the other side's audio.
  if (!polite) addLocalMedia(pc);
  else setTimeout(() => addLocalMedia(pc), POLITE_OFFER_AFTER_MS);
  armHelp();
  monitor = new QualityMonitor(neg.pc);
  clearInterval(qualityTimer);
  qualityTimer = setInterval(reportQuality, 5000);
  return neg;
}

function resetPeer() {
  if (!neg) return;
  neg.close();
  neg = null;
  monitor = null;
}

function onPeerState() {
  const state = neg.pc.connectionState;
  if (state === "connected") {
    wasConnected = true;
    clearHelp();
    setStatus("Connected", "connected");
  } else if (state === "disconnected" || state === "failed") {
    // "Reconnecting…" only for a call that had media; a first attempt is still trying
    setStatus(wasConnected ? "Reconnecting…" : "Still trying to connect…", "reconnecting");
    if (!helpTimer) armHelp();
  } else if (state === "connecting" || state === "new") setStatus("Connecting…", "connecting");
  root.dataset.pcState = state;
}

// ---- connection help: after HELP_AFTER_MS without media, say which part failed ------
function armHelp() {
  clearTimeout(helpTimer);
  helpTimer = setTimeout(showHelp, HELP_AFTER_MS);
}

function showHelp() {
  helpTimer = null;
  if (finished) return;
  const part = diagnose({
    wantsMedia, mediaOk: Boolean(media), socketConnected: Boolean(socket && socket.connected),
    pc: neg && neg.pc, relay, wasConnected,
  });
  if (!part || (!wantsMedia && part !== "signaling")) return; // a chat session needs only the socket
  if (!neg && part !== "signaling" && part !== "permission") return; // still waiting for the other person
  const box = $("connection-help");
  box.dataset.part = part;
  $("connection-help-text").textContent = helpText(part, cfg.otherName);
  $("help-audio-only").hidden = cfg.modality !== "video" || audioOnly || !neg;
  $("help-retry").hidden = part === "permission";
  box.hidden = false;
  helpTimer = setTimeout(showHelp, HELP_AFTER_MS); // keep the words true while it lasts
}

function clearHelp() {
  clearTimeout(helpTimer);
  helpTimer = null;
  $("connection-help").hidden = true;
}

function retryConnection() {
  clearHelp();
  if (socket && !socket.connected) socket.reconnect();
  else if (neg) neg.restartIce();
  armHelp();
}

// ---- audio only: video paused both ways, recorded with the quality numbers ---------
async function setAudioOnly(on, reason, { tell = true } = {}) {
  if (cfg.modality !== "video" || audioOnly === on) return;
  audioOnly = on;
  if (neg) {
    for (const sender of neg.pc.getSenders()) {
      if (!sender.track || sender.track.kind !== "video") continue;
      const params = sender.getParameters();
      if (params.encodings && params.encodings.length) {
        for (const e of params.encodings) e.active = !on;
        await sender.setParameters(params).catch(() => { sender.track.enabled = !on; });
      } else sender.track.enabled = !on;
    }
  }
  root.dataset.audioOnly = String(on);
  advisor.setAudioOnly(on);
  const button = $("audio-only-toggle");
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Turn video back on" : "Audio only";
  $("help-audio-only").hidden = true;
  if (tell) notice(describeSwitch({ audio_only: on, reason }), null);
  if (tell && socket) {
    const numbers = lastSample || { rtt_ms: 0, jitter_ms: 0, packet_loss_pct: 0, bitrate_kbps: 0 };
    const { rtt_ms, jitter_ms, packet_loss_pct, bitrate_kbps } = numbers;
    socket.request("media_mode", {
      session_id: cfg.sessionId, audio_only: on, reason, rtt_ms, jitter_ms, packet_loss_pct, bitrate_kbps,
    });
  }
}

function onMediaMode(detail) {
  if (detail.from === cfg.selfId) return;
  setAudioOnly(detail.audio_only, detail.reason, { tell: false });
  // either person can turn video back on
  notice(describeSwitch(detail, cfg.otherName), detail.audio_only ? "video" : null, "user");
}

// The bar above the controls: an offer (action "audio-only" / "video") or a notice.
function notice(text, action, reason = "low_bandwidth") {
  $("bandwidth-text").textContent = text;
  const button = $("bandwidth-switch");
  button.hidden = !action;
  button.dataset.action = action || "";
  button.dataset.reason = reason;
  button.textContent = action === "video" ? "Turn video back on" : "Switch to audio only";
  $("bandwidth-dismiss").textContent = action ? "Not now" : "OK";
  $("bandwidth-offer").hidden = false;
}

advisor.addEventListener("offer-audio-only", () => notice(OFFER_TEXT["offer-audio-only"], "audio-only"));
advisor.addEventListener("offer-video", () => notice(OFFER_TEXT["offer-video"], "video"));
advisor.addEventListener("offer-withdrawn", () => { $("bandwidth-offer").hidden = true; });

async function reportQuality() {
  if (!monitor || !socket.connected || !neg || neg.pc.connectionState !== "connected") return;
  const sample = await monitor.sample();
  lastSample = sample;
  if (cfg.modality === "video") advisor.observe(sample, { videoOn: !audioOnly });
  const { state, text } = describe(sample);
  setStatus(text, state);
  const { frames_decoded: _unused, ...payload } = sample;
  socket.request("quality", { session_id: cfg.sessionId, ...payload });
}

// ---- controls -------------------------------------------------------------------
function toggle(kind, button, onText, offText) {
  if (!media) return;
  const enabled = media.toggle(kind);
  button.setAttribute("aria-pressed", String(!enabled));
  button.textContent = enabled ? onText : offText;
}

async function switchDevice(kind, deviceId) {
  if (!media || !deviceId) return;
  try {
    const track = await media.switchDevice(kind, deviceId);
    const sender = neg && neg.pc.getSenders().find((s) => s.track && s.track.kind === kind);
    if (sender) await sender.replaceTrack(track);
    $("local-video").srcObject = media.stream;
  } catch (err) {
    $("media-error-text").textContent = explain(err);
    $("media-error").hidden = false;
  }
}

async function endSession() {
  if (!window.confirm("End the session for both of you?")) return;
  const ack = await socket.request("end", { session_id: cfg.sessionId });
  if (!ack.ok) setStatus(`Could not end the session: ${ack.error.message}`, "poor");
}

async function leave() {
  if (socket) await socket.request("leave", { session_id: cfg.sessionId }, 2000);
  stop("You left the call. You can rejoin from your dashboard while the session is open.", { home: true });
}

function finish(ratingUrl) {
  finished = true;
  cleanup();
  window.location.assign(ratingUrl);
}

function stop(message, { home = false, action = null } = {}) {
  finished = true;
  cleanup();
  setStatus("Not connected", "idle");
  $("stopped-text").textContent = message;
  $("stopped").hidden = false;
  $("stopped-home").hidden = !home;
  const link = $("stopped-action");
  link.hidden = !action;
  if (action) [link.href, link.textContent] = action;
  for (const id of ["precall", "waiting", "stage"]) $(id).hidden = true;
}

function cleanup() {
  clearInterval(qualityTimer);
  clearHelp();
  resetPeer();
  if (socket) socket.close();
  if (media) media.stop();
}

// What automated checks and support staff read: transport security and media flow,
// never content (docs/security.md, row 10: DTLS, SRTP, peer-to-peer or relay only).
window.callDiagnostics = async () => (neg ? diagnostics(neg.pc) : { pcState: "none" });

// ---- wiring ---------------------------------------------------------------------
const iceRefresher = new IceRefresher({
  url: cfg.iceUrl,
  ttlSeconds: Number(cfg.turnTtl),
  onFresh: (fresh) => {
    ice = fresh;
    if (neg) neg.pc.setConfiguration({ ...neg.pc.getConfiguration(), iceServers: ice.iceServers });
  },
});
chat = new ChatPanel({
  log: $("chat-log"), form: $("chat-form"), input: $("chat-input"), sessionId: cfg.sessionId, selfId: cfg.selfId,
  send: (payload) => (socket && socket.connected ? socket.request("chat", payload) : Promise.resolve(null)),
});
$("join-button").addEventListener("click", connect);
$("retry-media").addEventListener("click", precall);
$("chat-only").addEventListener("click", () => { $("media-error").hidden = true; });
$("mic-toggle").addEventListener("click", (e) => toggle("audio", e.currentTarget, "Mute microphone", "Unmute microphone"));
$("camera-toggle").addEventListener("click", (e) => toggle("video", e.currentTarget, "Turn camera off", "Turn camera on"));
$("mic-select").addEventListener("change", (e) => switchDevice("audio", e.target.value));
$("camera-select").addEventListener("change", (e) => switchDevice("video", e.target.value));
chatToggle = new ChatToggle({
  button: $("chat-toggle"), badge: $("chat-unread"), panel: $("chat"), input: $("chat-input"),
  announcer: $("chat-announce"), otherName: cfg.otherName,
});
$("help-retry").addEventListener("click", retryConnection);
$("help-audio-only").addEventListener("click", () => setAudioOnly(true, "user"));
$("help-chat").addEventListener("click", () => { if (!chatToggle.isOpen) chatToggle.open(); });
$("audio-only-toggle").addEventListener("click", () => setAudioOnly(!audioOnly, "user"));
$("bandwidth-switch").addEventListener("click", (e) => {
  $("bandwidth-offer").hidden = true;
  setAudioOnly(e.currentTarget.dataset.action === "audio-only", e.currentTarget.dataset.reason);
});
$("bandwidth-dismiss").addEventListener("click", () => { $("bandwidth-offer").hidden = true; });
$("end-session")?.addEventListener("click", endSession);
$("leave-call")?.addEventListener("click", leave);
window.addEventListener("pagehide", () => socket && socket.close());
// A call is activity: keep the login's idle timer from ending it (docs/security.md, row 7).
setInterval(() => fetch(cfg.keepaliveUrl, { headers: { Accept: "application/json" } }).catch(() => {}), 60000);
show("precall");
precall();
