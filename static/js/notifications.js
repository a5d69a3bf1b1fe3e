// Notifications: explain first, ask on a tap, help when blocked, guide iPhone users to the Home
// Screen; and on every app open, send this device's subscription to the server (upsert).
export const SENT_KEY = "attune-subscription-sent";

// Remembered per account: on a shared phone the next account must send its own subscription.
const sentMarker = (endpoint) => `${self.AttuneOutbox?.pageAccount() || ""} ${endpoint}`;

function isIos() {
  return /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
}

function isStandalone() {
  return navigator.standalone === true || window.matchMedia("(display-mode: standalone)").matches;
}

export function notificationState() {
  if (isIos() && !isStandalone()) return "ios";
  if (!("Notification" in window) || !("serviceWorker" in navigator) || !("PushManager" in window)) {
    return "unsupported";
  }
  return Notification.permission; // "default" | "granted" | "denied"
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - base64url.length % 4) % 4));
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

async function postJson(url, body, csrf) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
    body: JSON.stringify(body),
  });
}

/** Subscribe if needed and upsert the subscription on the server (once per app open). */
export async function syncSubscription(registration, csrf, force = false) {
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    const response = await fetch("/api/push/public-key", { credentials: "same-origin" });
    if (!response.ok) throw new Error("Reminders aren't set up on the server yet.");
    const { public_key: key } = await response.json();
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  }
  if (!force && sessionStorage.getItem(SENT_KEY) === sentMarker(subscription.endpoint)) return subscription;
  const saved = await postJson("/api/push/subscriptions", subscription.toJSON(), csrf);
  if (!saved.ok) throw new Error("We couldn't save this device. Please try again.");
  sessionStorage.setItem(SENT_KEY, sentMarker(subscription.endpoint));
  return subscription;
}

function show(card, state) {
  for (const block of card.querySelectorAll("[data-notify-state]")) {
    block.hidden = block.dataset.notifyState !== state;
  }
  card.hidden = state === "granted" && card.hasAttribute("data-hide-when-on");
}

function say(card, text) {
  const status = card.querySelector("[data-notify-status]");
  if (status) status.textContent = text;
}

export function setupNotifications(registration, csrf) {
  const card = document.getElementById("notify-card");
  let state = notificationState();
  if (state === "granted" && registration) {
    syncSubscription(registration, csrf).catch((error) => card && say(card, error.message));
  }
  if (!card) return;
  if (state !== "ios" && !registration) state = "unsupported";
  show(card, state);
  card.querySelector('[data-action="enable-notifications"]')?.addEventListener("click", async (event) => {
    const button = event.currentTarget;
    const asked = Notification.requestPermission(); // first, inside the tap: Safari insists
    button.disabled = true;
    try {
      const permission = await asked;
      if (permission !== "granted") {
        show(card, permission === "denied" ? "denied" : "default");
        if (permission !== "denied") say(card, "No problem. You can turn reminders on whenever you like.");
        return;
      }
      await syncSubscription(registration, csrf, true);
      show(card, "granted");
      card.hidden = false;
      say(card, "Reminders are on. Your next prompt will arrive as a notification.");
    } catch (error) {
      say(card, error.message || "Something went wrong. Please try again.");
    } finally {
      button.disabled = false;
    }
  });
  card.querySelector('[data-action="test-push"]')?.addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    say(card, "Sending…");
    try {
      await syncSubscription(registration, csrf);
      const response = await postJson("/api/push/test", {}, csrf);
      const body = await response.json().catch(() => ({}));
      say(card, body.message || "Sent.");
    } catch (error) {
      say(card, navigator.onLine ? (error.message || "That didn't work. Please try again.") : "You're offline. Try again when you're connected.");
    } finally {
      button.disabled = false;
    }
  });
}
