// The check-in page: a live note counter, and saving with the page's own UUID — straight to the
// server when online, into the outbox (sent later, never twice) when not.
import { csrfToken, sendOutbox } from "./app.js";

const form = document.getElementById("checkin-form");
const saved = document.getElementById("checkin-saved");
const waiting = document.getElementById("checkin-waiting");
const support = document.getElementById("support-resources");
const errorBox = document.getElementById("checkin-error");

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function setupCounter() {
  const note = form.querySelector("#note");
  const counter = form.querySelector("#note-counter");
  const live = form.querySelector("#note-counter-live");
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

function body() {
  const data = new FormData(form);
  const answer = form.querySelector('input[name="answer"]:checked');
  const felt = data.get("felt");
  const note = (data.get("note") || "").trim();
  return {
    id: form.querySelector("[data-checkin-id]").value,
    delivery_id: Number(form.dataset.deliveryId),
    answer: answer ? Number(answer.value) : null,
    tried: answer ? answer.dataset.tried || "yes" : "skip",
    felt: felt ? Number(felt) : null,
    note: note || null,
    shared_with_worker: data.get("shared_with_worker") === "on",
    wants_support: data.get("wants_support") === "on",
    client_created_at: new Date().toISOString(),
  };
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
  if (message) errorBox.focus?.();
}

function finish(panel, wantsSupport, tried) {
  form.hidden = true;
  const praise = document.getElementById("checkin-praise");  // a repair tried: a word of praise
  if (praise) praise.hidden = tried !== "yes";
  waiting.hidden = panel !== waiting;
  saved.hidden = panel !== saved;
  if (wantsSupport && support) support.hidden = false;
  panel.focus();
}

async function submit(event) {
  event.preventDefault();
  showError("");
  if (form.querySelector('input[name="answer"]') && !form.querySelector('input[name="answer"]:checked')) {
    showError("Choose the answer closest to your day.");
    return;
  }
  const checkin = body();
  const button = form.querySelector("[data-submit]");
  button.disabled = true;
  button.textContent = "Saving…";
  const entry = self.AttuneOutbox.checkinEntry(checkin, csrfToken());
  try {
    const outcome = await sendNow(entry);
    if (outcome.sent) {
      finish(saved, checkin.wants_support, checkin.tried);
    } else if (outcome.queued) {
      finish(waiting, checkin.wants_support);
      watchUntilSent(checkin.id);
    } else {
      showError(outcome.message);
    }
  } finally {
    button.disabled = false;
    button.textContent = "Save check-in";
  }
}

async function sendNow(entry) {
  let response = null;
  try {
    response = await fetch(entry.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken(),
        // The account this page was made for: if another signed in since, the server answers 409.
        ...(entry.owner ? { "X-Attune-Account": entry.owner } : {}) },
      body: JSON.stringify(entry.body),
    });
  } catch {
    response = null; // offline
  }
  if (response && response.ok) return { sent: true };
  // 409 wrong_account: someone else signed in on this phone since the page loaded. Keep the
  // check-in for its owner (the outbox sends it when they sign in again), never post it as theirs.
  const wrongAccount = response && response.status === 409
    && (await response.clone().json().catch(() => ({}))).error === "wrong_account";
  if (response && !wrongAccount && response.status < 500 && response.status !== 429 && response.status !== 401) {
    const problem = await response.json().catch(() => ({}));
    const details = problem.fields ? Object.values(problem.fields).join(" ") : "";
    return { message: `${problem.message || "That didn't save."} ${details}`.trim() };
  }
  await self.AttuneOutbox.put(entry);
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register("checkins");
  } catch {
    // No Background Sync here: app.js sends the outbox when the phone is back online.
  }
  return { queued: true };
}

function watchUntilSent(id) {
  const check = async () => {
    const left = await self.AttuneOutbox.all().catch(() => []);
    if (!left.some((entry) => entry.key === id)) {
      document.removeEventListener("attune:outbox", check);
      finish(saved, !support?.hidden);
    }
  };
  document.addEventListener("attune:outbox", check);
  if (navigator.onLine) sendOutbox();
}

if (form) {
  form.querySelector("[data-checkin-id]").value = uuid4(); // a fresh id even on a cached page
  setupCounter();
  form.addEventListener("submit", submit);
}
