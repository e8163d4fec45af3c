// The chat panel behind "Chat" in video and audio calls: what arrives while it is closed
// is counted on the button and announced to screen readers, so no message goes unnoticed.
export class ChatToggle {
  constructor({ button, badge, panel, input, announcer, otherName }) {
    Object.assign(this, { button, badge, panel, input, announcer, otherName });
    this.unread = 0;
    button.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    this.#render();
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open() {
    this.panel.hidden = false;
    this.unread = 0;
    this.#render();
    this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.#render();
  }

  /** A message from the other person was added to the panel, perhaps unseen. */
  arrived() {
    if (this.isOpen) return;
    this.unread += 1;
    this.#render();
    const count = this.unread === 1 ? "1 unread message" : `${this.unread} unread messages`;
    this.announcer.textContent = `New chat message from ${this.otherName} (${count}). Open Chat to read it.`;
  }

  #render() {
    this.button.setAttribute("aria-expanded", String(this.isOpen));
    this.badge.textContent = String(this.unread);
    this.badge.hidden = this.unread === 0;
    if (this.unread) this.button.setAttribute("aria-label", `Chat, ${this.unread} unread`);
    else this.button.removeAttribute("aria-label");
  }
}
