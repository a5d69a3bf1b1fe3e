// The worker's "Turn on alerts" control (/worker/): the same service worker and the same
// /api/push/subscriptions API as the parents' reminders, so a support request reaches this device
// the moment it is made. Email still arrives either way.
import { notificationState, syncSubscription, t } from "./notifications.js";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    return await navigator.serviceWorker.ready;
  } catch {
    return null;
  }
}

function show(card, state) {
  for (const block of card.querySelectorAll("[data-alerts-state]")) {
    block.hidden = block.dataset.alertsState !== state;
  }
  card.hidden = false;
}

function say(card, text) {
  card.querySelector("[data-alerts-status]").textContent = text;
}

async function start() {
  const card = document.getElementById("alerts-card");
  if (!card) return;
  const registration = await registerWorker();
  let state = notificationState();
  if (state !== "ios" && !registration) state = "unsupported";
  show(card, state);
  if (state === "granted") {
    // Keep this device on the account (an endpoint can change; the server upserts it).
    syncSubscription(registration, csrf).catch((error) => say(card, error.message));
  }
  card.querySelector('[data-action="enable-alerts"]')?.addEventListener("click", async (event) => {
    const button = event.currentTarget;
    const asked = Notification.requestPermission(); // inside the tap: Safari insists
    button.disabled = true;
    try {
      const permission = await asked;
      if (permission !== "granted") {
        show(card, permission === "denied" ? "denied" : "default");
        return;
      }
      await syncSubscription(registration, csrf, true);
      show(card, "granted");
      say(card, t("Alerts are on. A family's request for contact will show here as a notification."));
    } catch (error) {
      say(card, error.message || t("That didn't work. Please try again."));
    } finally {
      button.disabled = false;
    }
  });
}

start();
