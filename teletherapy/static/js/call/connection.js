// When a call does not connect: which part failed, in plain words, and what to do.
// Also the pre-call check that the relay (TURN) server is reachable from this network.

/** How long a call may try before the page explains (people give up after ~15 s). */
export const HELP_AFTER_MS = 15000;

// One message per failing part; {name} is the other person. Each says what to do.
const HELP = {
  permission:
    "Your camera or microphone is not available, so {name} cannot see or hear you. " +
    "Allow them in your browser's address bar and reload the page, or continue in the chat.",
  signaling:
    "Your browser cannot reach the session server right now. Check that you are online: " +
    "the page keeps trying by itself. You can also write in the chat once it is back.",
  relay:
    "Your network blocks the call's relay server, and a direct connection to {name} did not " +
    "work either. Strict firewalls (some workplaces, hotels, public Wi-Fi) do this. Try another " +
    "network, such as your phone's hotspot, or continue in the chat.",
  ice:
    "Your browser and {name}'s found no network path to each other, usually because of a " +
    "firewall on one side. Press “Try again”, switch to audio only, or continue in the chat.",
  reconnecting:
    "The connection to {name} dropped and has not come back yet. The call reconnects by itself " +
    "when your network returns: check your Wi-Fi or cable. Meanwhile you can write in the chat, " +
    "or leave and rejoin from your dashboard.",
};

/**
 * Which part of the call failed, checked in the order a person can fix it:
 * "permission" (no camera/microphone), "signaling" (no socket to the server),
 * "relay" (TURN configured but not reachable from here), "reconnecting" (it was
 * connected and dropped), "ice" (no network path), or null when media flows.
 */
export function diagnose({ wantsMedia, mediaOk, socketConnected, pc, relay, wasConnected }) {
  if (pc && pc.connectionState === "connected") return null;
  if (wantsMedia && !mediaOk) return "permission";
  if (!socketConnected) return "signaling";
  if (wasConnected) return "reconnecting";
  if (relay === "unreachable") return "relay";
  return "ice";
}

export function helpText(part, name) {
  return (HELP[part] || HELP.ice).replaceAll("{name}", name);
}

const RELAY_TEXT = {
  checking: "Relay server: checking…",
  reachable: "Relay server: reachable. Calls work from this network, even behind a firewall.",
  unreachable:
    "Relay server: not reachable from this network. A call may still connect directly; " +
    "if it does not, try another network.",
  none: "Relay server: not set up on this server. Calls need a direct path between you.",
  unknown: "Relay server: could not be checked.",
};

export function relayText(state) {
  return RELAY_TEXT[state] || RELAY_TEXT.unknown;
}

function isTurn(server) {
  return [].concat(server.urls).some((url) => /^turns?:/.test(url));
}

/**
 * Gather one relay candidate with the deployment's TURN servers (nothing is sent to
 * anyone): "reachable", "unreachable", "none" (no TURN configured) or "unknown".
 */
export async function checkRelay(iceUrl, timeoutMs = 8000) {
  let servers;
  try {
    const res = await fetch(iceUrl, { headers: { Accept: "application/json" } });
    if (!res.ok) return "unknown";
    servers = (await res.json()).ice_servers.filter(isTurn);
  } catch {
    return "unknown";
  }
  if (!servers.length) return "none";
  const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: "relay" });
  try {
    const found = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      pc.onicecandidate = ({ candidate }) => {
        if (candidate && candidate.type !== "relay") return;
        clearTimeout(timer);
        resolve(Boolean(candidate)); // null = gathering ended without a relay candidate
      };
    });
    pc.createDataChannel("relay-check");
    await pc.setLocalDescription(await pc.createOffer());
    return (await found) ? "reachable" : "unreachable";
  } catch {
    return "unknown";
  } finally {
    pc.close();
  }
}
