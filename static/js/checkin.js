// The check-in page in two taps. Tap 1 (an answer button) saves the check-in with the page's own
// UUID — straight to the server when online, into the outbox (sent later, never twice) when not —
// and the page turns into the optional "add more" step, saved with PATCH /api/checkins/<id> (also
// through the outbox when offline). Errors appear next to what they are about and take the focus.
import { csrfToken, sendOutbox } from "./app.js";
import { t } from "./notifications.js";

const $ = (id) => document.getElementById(id);
const [form, done, saved, waiting, support, answerError, more, moreError, moreStatus] = ["checkin-form",
  "checkin-done", "checkin-saved", "checkin-waiting", "support-resources", "answer-error", "more-form",
  "more-error", "more-status"].map($);

function setupCounter() {
  const [note, counter, live] = ["note", "note-counter", "note-counter-live"].map($);
  if (!note || !counter) return;
  const max = Number(counter.dataset.max || 500);
  let announced = false;
  const update = () => {
    const used = note.value.length;
    counter.textContent = `${used} / ${max}`;
    counter.classList.toggle("is-over", used > max);
    const near = max - used <= 50;
    if (live && near !== announced) live.textContent = near ? t("%(left)s characters left", { left: max - used }) : "";
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

/** Send an outbox entry now (the outbox's own rules): {sent} | {queued} | {message, fields}. */
async function sendNow(entry) {
  const outcome = await self.AttuneOutbox.send(entry, csrfToken());
  if (outcome === "sent") return { sent: true };
  if (outcome === "drop") return { message: entry.problem?.message || t("That didn't save."), fields: entry.problem?.fields || {} };
  // Offline, busy, or another account signed in since: kept for its owner, sent later, never twice.
  await self.AttuneOutbox.put(entry);
  try {
    await (await navigator.serviceWorker?.ready)?.sync?.register("checkins");
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
  if (button?.name !== "answer") return showError(answerError, t("Choose the answer closest to your day."));
  showError(answerError, "");
  const checkin = { id: form.querySelector("[data-checkin-id]").value, delivery_id: Number(form.dataset.deliveryId),
    // A prompt no longer stored has no answers: its one button says only "tried".
    ...(button.value ? { answer: Number(button.value) } : { tried: "yes" }), client_created_at: new Date().toISOString() };
  const buttons = form.querySelectorAll("button");
  for (const other of buttons) other.disabled = true;
  const outcome = await sendNow(self.AttuneOutbox.checkinEntry(checkin, csrfToken()));
  for (const other of buttons) other.disabled = false;
  if (outcome.message) return showError(answerError, `${outcome.message} ${Object.values(outcome.fields).join(" ")}`);
  const praise = document.getElementById("checkin-praise");  // a repair tried: a word of praise
  if (praise) praise.hidden = button.dataset.tried !== "yes";
  showDone(Boolean(outcome.queued), checkin.id);
  if (outcome.queued) watchUntilSent(checkin.id);
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

/** The note's problem shows under the note (which it describes, so a screen reader hears it when
    the focus lands there); any other in the box at the top of the form. */
function showFieldErrors(fields, message) {
  const note = $("note");
  const noteError = $("note-error");
  note.toggleAttribute("aria-invalid", Boolean(fields.note));
  showError(noteError, fields.note || "");
  if (fields.note) note.focus();
  else showError(moreError, [message, ...Object.values(fields)].join(" "));
}

async function addMore(event) {
  event.preventDefault();
  showError(moreError, "");
  moreStatus.textContent = "";
  const body = extras();
  if (!Object.keys(body).length) {
    showError(moreError, t("Nothing to add yet: choose a feeling, write a note or tick a box, or tap Done."));
    return;
  }
  const id = more.querySelector("[data-more-id]").value;
  const entry = { ...self.AttuneOutbox.checkinEntry({ ...body, id }, csrfToken()), key: `more:${id}:${Date.now()}`,
    kind: "extras", method: "PATCH", url: `/api/checkins/${id}`, checkin: id };
  delete entry.body.id;
  const outcome = await sendNow(entry);
  if (outcome.message) return showFieldErrors(outcome.fields, outcome.message);
  moreStatus.textContent = outcome.sent ? t("Added to your check-in.") : t("Kept on this phone: it's added when you're online.");
  if (body.wants_support && support) support.hidden = false;
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
  // A fresh id even on a cached page (randomUUID: every browser that can take Web Push has it).
  form.querySelector("[data-checkin-id]").value = crypto.randomUUID();
  form.addEventListener("submit", answer);
}
if (more) {
  setupCounter();
  more.addEventListener("submit", addMore);
}
// the no-JavaScript save landed here
if (done && !done.hidden) saved.focus();
