// The check-in page in two taps. Tap 1 (an answer button) saves the check-in with the page's own
// UUID — straight to the server when online, into the outbox (sent later, never twice) when not —
// and the page turns into the optional "add more" step, saved with PATCH /api/checkins/<id> (also
// through the outbox when offline). Errors appear next to what they are about and take the focus.
import { csrfToken, sendOutbox } from "./app.js";

const form = document.getElementById("checkin-form");
const done = document.getElementById("checkin-done");
const saved = document.getElementById("checkin-saved");
const waiting = document.getElementById("checkin-waiting");
const support = document.getElementById("support-resources");
const answerError = document.getElementById("answer-error");
const more = document.getElementById("more-form");
const moreError = document.getElementById("more-error");
const moreStatus = document.getElementById("more-status");

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function setupCounter() {
  const note = more?.querySelector("#note");
  const counter = more?.querySelector("#note-counter");
  const live = more?.querySelector("#note-counter-live");
  if (!note || !counter) return;
  const max = Number(counter.dataset.max || 500);
  let announced = false;
  const update = () => {
    const used = note.value.length;
    counter.textContent = `${used} / ${max}`;
    counter.classList.toggle("is-over", used > max);
    const near = max - used <= 50;
    if (live && near !== announced) live.textContent = near ? `${max - used} characters left` : "";
    announced = near;
  };
  note.addEventListener("input", update);
  update();
}

/** Show ``message`` in ``box`` (next to what it is about) and move the focus there; "" hides it. */
function showError(box, message) {
  if (!box) return;
  box.textContent = message;
  box.hidden = !message;
  if (message) box.focus();
}

function headers(owner) {
  return { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken(),
    // The account this page was made for: if another signed in since, the server answers 409.
    ...(owner ? { "X-Attune-Account": owner } : {}) };
}

/** Send an outbox entry now: {sent, body} | {queued} | {message, fields} (a refusal to show). */
async function sendNow(entry) {
  let response = null;
  try {
    response = await fetch(entry.url, { method: entry.method || "POST", credentials: "same-origin",
      headers: headers(entry.owner), body: JSON.stringify(entry.body) });
  } catch {
    response = null; // offline
  }
  if (response && response.ok) return { sent: true, body: await response.json().catch(() => ({})) };
  // 409 wrong_account: someone else signed in on this phone since the page loaded. Keep the
  // check-in for its owner (the outbox sends it when they sign in again), never post it as theirs.
  const problem = response ? await response.clone().json().catch(() => ({})) : {};
  const keep = !response || problem.error === "wrong_account" || response.status >= 500
    || response.status === 429 || response.status === 401
    || (response.status === 404 && await self.AttuneOutbox.waitingFor(entry)); // its check-in isn't sent yet
  if (!keep) return { message: problem.message || "That didn't save.", fields: problem.fields || {} };
  await self.AttuneOutbox.put(entry);
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register("checkins");
  } catch {
    // No Background Sync here: app.js sends the outbox when the phone is back online.
  }
  return { queued: true };
}

/** Tap 1 done: the answers give way to "Saved" (or "Waiting to send") and the add-more step. */
function showDone(queued, checkinId) {
  form.hidden = true;
  done.hidden = false;
  saved.hidden = queued;
  waiting.hidden = !queued;
  more.querySelector("[data-more-id]").value = checkinId;
  (queued ? waiting : saved).focus();
}

async function answer(event) {
  event.preventDefault();
  const button = event.submitter;
  if (!button || button.name !== "answer" || !button.value) {
    showError(answerError, "Choose the answer closest to your day.");
    return;
  }
  showError(answerError, "");
  const checkin = {
    id: form.querySelector("[data-checkin-id]").value,
    delivery_id: Number(form.dataset.deliveryId),
    answer: Number(button.value),
    client_created_at: new Date().toISOString(),
  };
  for (const other of form.querySelectorAll("button")) other.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const outcome = await sendNow(self.AttuneOutbox.checkinEntry(checkin, csrfToken()));
    if (outcome.sent || outcome.queued) {
      showDone(Boolean(outcome.queued), checkin.id);
      if (outcome.queued) watchUntilSent(checkin.id);
    } else {
      showError(answerError, `${outcome.message} ${Object.values(outcome.fields).join(" ")}`.trim());
    }
  } finally {
    for (const other of form.querySelectorAll("button")) other.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** What the add-more form says, as a PATCH body: only what was filled in. */
function extras() {
  const data = new FormData(more);
  const body = {};
  if (data.get("felt")) body.felt = Number(data.get("felt"));
  const note = (data.get("note") || "").trim();
  if (note) body.note = note;
  if (note || data.get("shared_with_worker") === "on") body.shared_with_worker = data.get("shared_with_worker") === "on";
  if (data.get("wants_support") === "on") body.wants_support = true;
  return body;
}

const FIELD_ERRORS = { note: "note-error", felt: "more-error", shared_with_worker: "more-error", wants_support: "more-error" };

function showFieldErrors(fields, message) {
  const note = more.querySelector("#note");
  const noteError = document.getElementById("note-error");
  note.removeAttribute("aria-invalid");
  noteError.hidden = true;
  if (fields.note) {
    noteError.textContent = fields.note;
    note.setAttribute("aria-invalid", "true");
    showError(noteError, fields.note);
    showError(moreError, "");
    note.focus(); // described by the error (aria-describedby), so a screen reader hears it too
    return;
  }
  const other = Object.entries(fields).filter(([name]) => FIELD_ERRORS[name]).map(([, text]) => text);
  showError(moreError, [message, ...other].join(" "));
}

async function addMore(event) {
  event.preventDefault();
  showError(moreError, "");
  moreStatus.textContent = "";
  const body = extras();
  if (!Object.keys(body).length) {
    showError(moreError, "Nothing to add yet: choose a feeling, write a note or tick a box, or tap Done.");
    return;
  }
  const id = more.querySelector("[data-more-id]").value;
  const entry = { ...self.AttuneOutbox.checkinEntry({ ...body, id }, csrfToken()), key: `more:${id}:${Date.now()}`,
    kind: "extras", method: "PATCH", url: `/api/checkins/${id}`, checkin: id };
  delete entry.body.id;
  const button = more.querySelector("[data-more-submit]");
  button.disabled = true;
  try {
    const outcome = await sendNow(entry);
    if (outcome.sent) {
      moreStatus.textContent = "Added to your check-in.";
      if (outcome.body?.checkin?.wants_support && support) support.hidden = false;
    } else if (outcome.queued) {
      moreStatus.textContent = "Kept on this phone: it's added when you're online.";
      if (body.wants_support && support) support.hidden = false;
    } else {
      showFieldErrors(outcome.fields, outcome.message);
    }
  } finally {
    button.disabled = false;
  }
}

function watchUntilSent(id) {
  const check = async () => {
    const left = await self.AttuneOutbox.all().catch(() => []);
    if (!left.some((entry) => entry.key === id)) {
      document.removeEventListener("attune:outbox", check);
      waiting.hidden = true;
      saved.hidden = false;
    }
  };
  document.addEventListener("attune:outbox", check);
  if (navigator.onLine) sendOutbox();
}

if (form) {
  form.querySelector("[data-checkin-id]").value = uuid4(); // a fresh id even on a cached page
  form.addEventListener("submit", answer);
}
if (more) {
  setupCounter();
  more.addEventListener("submit", addMore);
}
if (done && !done.hidden) saved.focus(); // the no-JavaScript save landed here
