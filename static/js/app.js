// Every parent page: install the service worker, send waiting check-ins, keep this device's push
// subscription fresh, and show how many check-ins are waiting to send.
import { setupNotifications } from "./notifications.js";

export const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

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
  const waiting = await self.AttuneOutbox.count().catch(() => 0);
  status.hidden = waiting === 0;
  status.textContent = waiting === 1
    ? "1 check-in is waiting to send. It will send when you're online."
    : `${waiting} check-ins are waiting to send. They will send when you're online.`;
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

async function start() {
  listenToWorker();
  window.addEventListener("online", sendOutbox);
  sendOutbox();
  const registration = await registerWorker();
  setupNotifications(registration, csrfToken);
  if (registration) precacheLinks();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
