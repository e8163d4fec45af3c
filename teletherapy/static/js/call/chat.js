// Chat: every message is shown once (by server id); unacknowledged ones stay "pending"
// and are re-sent with the same client_msg_id, which the server stores only once.
export class ChatPanel {
  constructor({ log, form, input, sessionId, selfId, send }) {
    Object.assign(this, { log, form, input, sessionId, selfId, send });
    this.shown = new Set();
    this.storeKey = `chat-pending:${sessionId}`;
    this.pending = new Map(JSON.parse(sessionStorage.getItem(this.storeKey) || "[]"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      this.queue(text);
    });
    for (const [id, text] of this.pending) this.#renderPending(id, text);
  }

  #save() {
    sessionStorage.setItem(this.storeKey, JSON.stringify([...this.pending]));
  }

  queue(text) {
    const id = crypto.randomUUID();
    this.pending.set(id, text);
    this.#save();
    this.#renderPending(id, text);
    this.flush();
  }

  /** Try every pending message again (after a reconnect too). */
  async flush() {
    for (const [id, text] of [...this.pending]) {
      const ack = await this.send({ session_id: this.sessionId, text, client_msg_id: id });
      if (ack && ack.ok) this.show(ack.message);
      else if (ack && ack.error && ["invalid", "too_large"].includes(ack.error.code)) this.#fail(id, ack.error.message);
    }
  }

  /** Add a message once (by server id); true if it was new here. */
  show(message) {
    if (this.pending.has(message.client_msg_id) && message.sender_id === this.selfId) {
      this.pending.delete(message.client_msg_id);
      this.#save();
      this.log.querySelector(`[data-pending="${message.client_msg_id}"]`)?.remove();
    }
    if (this.shown.has(message.id)) return false;
    this.shown.add(message.id);
    const mine = message.sender_id === this.selfId;
    const li = this.#item(message.text, mine ? "You" : (message.sender_role === "therapist" ? "Therapist" : "Client"), mine);
    li.dataset.seq = message.seq;
    const time = document.createElement("time");
    time.dateTime = message.sent_at;
    time.textContent = new Date(message.sent_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    li.querySelector(".meta").append(" · ", time);
    const after = [...this.log.children].find((el) => el.dataset.seq && Number(el.dataset.seq) > message.seq);
    this.log.insertBefore(li, after || this.log.querySelector("[data-pending]"));
    this.log.scrollTop = this.log.scrollHeight;
    return true;
  }

  #item(text, who, mine) {
    const li = document.createElement("li");
    li.className = mine ? "msg mine" : "msg theirs";
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = who;
    const body = document.createElement("p");
    body.textContent = text; // text is stored verbatim; the page never interprets it
    li.append(meta, body);
    return li;
  }

  #renderPending(id, text) {
    const li = this.#item(text, "You · sending…", true);
    li.dataset.pending = id;
    li.classList.add("pending");
    this.log.append(li);
  }

  #fail(id, why) {
    this.pending.delete(id);
    this.#save();
    const li = this.log.querySelector(`[data-pending="${id}"]`);
    if (li) li.querySelector(".meta").textContent = `Not sent: ${why}`;
  }
}
