// Every parent page: install the service worker, send waiting check-ins, keep this device's push
// subscription fresh, show how many check-ins are waiting to send, and sign out in a way that
// suits a shared phone (warn about waiting check-ins, take this device off the account).
import { setupNotifications, t } from "./notifications.js";

export const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
let workerReady = Promise.resolve(null);

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    return await navigator.serviceWorker.ready;
  } catch {
    return null; // the app still works without offline support
  }
}

async function showOutbox() {
  const status = document.getElementById("outbox-status");
  if (!status || !self.AttuneOutbox) return;
  const outbox = self.AttuneOutbox;
  // Not others', and a check-in's added extras don't count as one more.
  const waiting = (await outbox.entriesFor(outbox.pageAccount()).catch(() => [])).filter((e) => e.kind !== "extras").length;
  status.hidden = waiting === 0;
  status.textContent = waiting === 1
    ? t("1 check-in is waiting to send. It will send when you're online.")
    : t("%(count)s check-ins are waiting to send. They will send when you're online.", { count: waiting });
  document.dispatchEvent(new CustomEvent("attune:outbox", { detail: { waiting } }));
}

export async function sendOutbox() {
  if (!self.AttuneOutbox) return;
  try {
    await self.AttuneOutbox.flush(csrfToken());
  } finally {
    await showOutbox();
  }
}

function precacheLinks() {
  // Today's check-in page, so it opens from a notification even without a connection.
  for (const link of document.querySelectorAll("a[data-precache]")) {
    fetch(link.href, { headers: { Accept: "text/html", Purpose: "prefetch" }, credentials: "same-origin" })
      .catch(() => {});
  }
}

function listenToWorker() {
  navigator.serviceWorker?.addEventListener("message", (event) => {
    const message = event.data || {};
    if (message.type === "outbox-changed") showOutbox();
    if (message.type === "navigate" && typeof message.url === "string" && message.url.startsWith("/")) {
      window.location.assign(message.url);
    }
  });
}

// Signing out: a phone may be shared. The checks (waiting check-ins, this device's subscription)
// load on the tap, from signout.js: they need the network anyway, and cost a first visit nothing.
function setupSignOut() {
  for (const form of document.querySelectorAll("form[data-signs-out]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (form.dataset.busy) return;
      form.dataset.busy = "true";
      import("./signout.js").then((module) => module.signOut(form, workerReady))
        .catch(() => true) // never stand between a parent and signing out
        .then((go) => (go ? HTMLFormElement.prototype.submit.call(form) : null)) // no second submit event
        .finally(() => { delete form.dataset.busy; });
    });
  }
}

async function start() {
  listenToWorker();
  setupSignOut();
  window.addEventListener("online", sendOutbox);
  sendOutbox();
  workerReady = registerWorker();
  const registration = await workerReady;
  setupNotifications(registration, csrfToken);
  if (registration) precacheLinks();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
