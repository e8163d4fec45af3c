// Low bandwidth: when the quality samples (quality.js, one every 5 s) show a weak
// connection for a while, offer to switch the call to audio only, and offer video again
// once audio has been clean for a while. Pure: no DOM, no socket. The page feeds it
// samples, tells it when the call switched (either person, any reason), and shows the
// offers it fires. Thresholds and why: docs/api.md ("Audio only on a weak connection").

/** Loss above this (%) in a sample is poor: speech starts to break up and video freezes
 * (the line where quality.js's describe() says "Your connection is weak"). */
export const POOR_LOSS_PCT = 5;
/** Received kbit/s (audio and video together) below this while video should arrive is
 * poor: speech takes about 40, leaving video near 100, where browsers send a small,
 * blurred picture at a few frames a second. */
export const LOW_BITRATE_KBPS = 150;
/** In audio only, loss at or below this (%) counts as clean: lower than the poor line,
 * so a connection hovering around 5 % does not flip back and forth. */
export const GOOD_LOSS_PCT = 2;
/** Poor samples in a row before offering audio only: 3 × 5 s = 15 s, so a passing
 * burst (a download starting, a congested moment) never triggers it. */
export const POOR_SAMPLES = 3;
/** Clean samples in a row in audio only before offering video: 6 × 5 s = 30 s, longer
 * than the other way, since a wrong offer of video costs a breaking picture. */
export const GOOD_SAMPLES = 6;

/**
 * Events (CustomEvent, `detail: {sample}`, the sample that completed the streak: the
 * numbers to send with `media_mode`):
 * - `offer-audio-only`: in video, POOR_SAMPLES poor samples in a row;
 * - `offer-video`: in audio only, GOOD_SAMPLES clean samples in a row;
 * - `offer-withdrawn`: a sample broke the streak of an offer still standing.
 * Each offer fires once per streak: "Not now" is not asked again until the connection
 * has had a sample on the other side of the line.
 */
export class BandwidthAdvisor extends EventTarget {
  #audioOnly = false;
  #streak = 0;
  #offered = false;

  /** "video" or "audio-only": what the call is doing now, as the page told it. */
  get mode() {
    return this.#audioOnly ? "audio-only" : "video";
  }

  /** The call switched (this person or the other, offered or chosen): streaks restart. */
  setAudioOnly(on) {
    this.#audioOnly = Boolean(on);
    this.#streak = 0;
    this.#offered = false;
  }

  /** One quality sample. `videoOn`: whether video should be arriving (the other person's
   * camera is on as far as the page knows); without it a low bitrate is expected. */
  observe(sample, { videoOn = true } = {}) {
    // nothing received since the last sample (the first after connecting, or the
    // connection is down and the page says so): it tells nothing about bandwidth
    if (!sample || !(sample.bitrate_kbps > 0)) return;
    const fits = this.#audioOnly ? isClean(sample) : isPoor(sample, videoOn);
    if (!fits) {
      if (this.#offered) this.#fire("offer-withdrawn", sample);
      this.#streak = 0;
      this.#offered = false;
      return;
    }
    this.#streak += 1;
    if (this.#offered || this.#streak < (this.#audioOnly ? GOOD_SAMPLES : POOR_SAMPLES)) return;
    this.#offered = true;
    this.#fire(this.#audioOnly ? "offer-video" : "offer-audio-only", sample);
  }

  #fire(type, sample) {
    this.dispatchEvent(new CustomEvent(type, { detail: { sample } }));
  }
}

function isPoor(sample, videoOn) {
  return sample.packet_loss_pct > POOR_LOSS_PCT || (videoOn && sample.bitrate_kbps < LOW_BITRATE_KBPS);
}

function isClean(sample) {
  return sample.packet_loss_pct <= GOOD_LOSS_PCT;
}

/** The words of an offer, for the page's prompt. */
export const OFFER_TEXT = {
  "offer-audio-only": "Your connection is weak. Switch to audio only? Your voices stay clear; video stops for both of you.",
  "offer-video": "Your connection has been steady for a while. Turn video back on?",
};

/** A switch in words: `change` is a `media_mode` payload or relay ({audio_only, reason});
 * `name` the other person's name, or nothing when this page made the switch. */
export function describeSwitch({ audio_only: audioOnly, reason }, name) {
  const who = name || "You";
  if (!audioOnly) return `${who} turned video back on.`;
  const why = reason === "low_bandwidth" ? " because the connection was weak" : "";
  return `${who} switched the call to audio only${why}.`;
}
