// Keeps a rating form's answers in sessionStorage until the rating is stored, so a
// reload (or a lost connection) never loses what a person chose (docs/architecture.md,
// "How the pages are designed"). The page that confirms a rating (or says the window
// closed) forgets them.

const PREFIX = "rating-form:";

function storage() {
  try {
    return window.sessionStorage; // may throw when storage is blocked
  } catch {
    return null;
  }
}

function read(store, key) {
  try {
    const saved = JSON.parse(store.getItem(key) || "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return {};
  }
}

function chosen(form) {
  const answers = {};
  for (const input of form.querySelectorAll('input[type="radio"]:checked')) {
    if (input.value !== "") answers[input.name] = input.value;
  }
  return answers;
}

function restore(form, saved) {
  for (const [name, value] of Object.entries(saved)) {
    const group = form.querySelectorAll(`input[type="radio"][name="${CSS.escape(name)}"]`);
    const current = [...group].find((input) => input.checked);
    if (current && current.value !== "") continue; // the server's copy wins
    const match = [...group].find((input) => input.value === String(value));
    if (match) match.checked = true;
  }
}

function keepAnswers(form, store) {
  const key = PREFIX + form.dataset.storageKey;
  restore(form, read(store, key));
  form.addEventListener("change", () => {
    try {
      store.setItem(key, JSON.stringify(chosen(form)));
    } catch {
      // storage full or blocked: the form still works, answers just are not kept
    }
  });
}

const store = storage();
if (store) {
  const form = document.querySelector('form[data-testid="rating-form"][data-storage-key]');
  if (form) keepAnswers(form, store);
  for (const done of document.querySelectorAll("[data-rating-done]")) {
    store.removeItem(PREFIX + done.dataset.ratingDone);
  }
}

// After a rejected submission, take keyboard and screen-reader users to the summary.
document.querySelector("[data-error-summary]")?.focus();
