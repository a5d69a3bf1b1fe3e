// "Reminders on this phone": one switch. Explain first, ask on a tap, help when blocked, guide
// iPhone users to the Home Screen; on every app open, send this device's subscription to the server
// (upsert) — unless the parent turned reminders off here. Off stays off: the phone remembers it
// (per account, in localStorage, which a new service worker doesn't touch) and the server keeps the
// endpoint as opted out, so even a phone that forgot gets {"opted_out": true} and stays off.
export const SENT_KEY = "attune-subscription-sent";

let words;
/** A sentence in the page's language: the translation of the English ``text`` from the page's
    #attune-words block (coach/js_words.py; none on English pages), ``%(name)s`` filled from
    ``values``. Every module's words come through here so the catalogue test can find them. */
export function t(text, values = {}) {
  words ??= JSON.parse(document.getElementById("attune-words")?.textContent || "{}");
  return (words[text] || text).replace(/%\((\w+)\)[sd]/g, (_match, key) => String(values[key]));
}

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

const postJson = (url, body, csrf, method = "POST") => fetch(url, { method, credentials: "same-origin",
  headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
  body: JSON.stringify(body) });

const OFF_PREFIX = "attune-reminders-off:";
// this session already told the server
const OFF_SENT = "attune-reminders-off-sent";
const offKey = () => `${OFF_PREFIX}${self.AttuneOutbox?.pageAccount() || ""}`;
export const remindersOff = () => localStorage.getItem(offKey()) === "1";
function rememberOff(off) {
  if (off) localStorage.setItem(offKey(), "1");
  else localStorage.removeItem(offKey());
}

/** Subscribe if needed and upsert the subscription on the server (once per app open).
    ``force`` is a tap on "Turn on": it also tells the server to take the device back
    (``resubscribe: true``). Resolves to ``{subscription, optedOut}``. */
export async function syncSubscription(registration, csrf, force = false) {
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    const response = await fetch("/api/push/public-key", { credentials: "same-origin" });
    if (!response.ok) throw new Error(t("Reminders aren't set up on the server yet."));
    const { public_key: key } = await response.json();
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  }
  if (!force && sessionStorage.getItem(SENT_KEY) === sentMarker(subscription.endpoint)) {
    return { subscription, optedOut: false };
  }
  const saved = await postJson("/api/push/subscriptions",
    force ? { ...subscription.toJSON(), resubscribe: true } : subscription.toJSON(), csrf);
  if (!saved.ok) throw new Error(t("We couldn't save this device. Please try again."));
  const body = await saved.json().catch(() => ({}));
  // turned off here: nothing stored
  if (body.opted_out) return { subscription, optedOut: true };
  sessionStorage.setItem(SENT_KEY, sentMarker(subscription.endpoint));
  return { subscription, optedOut: false };
}

/** Tell the server this device is off (kept as opted out). Repeated once per app open while off,
    so a switch flipped offline still reaches the server. */
async function sendOff(registration, csrf) {
  const subscription = await registration?.pushManager?.getSubscription().catch(() => null);
  sessionStorage.removeItem(SENT_KEY);
  if (subscription) await postJson("/api/push/subscriptions", { endpoint: subscription.endpoint }, csrf, "DELETE");
}

/** Draw the card: the switch's state, and the help block this browser needs (if any). */
function render(card, state, on) {
  const toggle = card.querySelector("#reminders-switch");
  const usable = state === "default" || state === "granted";
  toggle.disabled = !usable;
  toggle.setAttribute("aria-checked", String(usable && on));
  toggle.querySelector("[data-switch-text]").textContent = usable && on ? t("On") : t("Turn on reminders");
  for (const block of card.querySelectorAll("[data-notify-state]")) {
    const name = block.dataset.notifyState;
    block.hidden = name !== (usable ? (on ? "on" : "off") : state) && !(name === "help" && !usable);
  }
}

function say(card, text) {
  card.querySelector("[data-notify-status]").textContent = text;
}

export function setupNotifications(registration, csrf) {
  const card = document.getElementById("notify-card");
  let state = notificationState();
  if (state !== "ios" && !registration) state = "unsupported";
  let on = state === "granted" && !remindersOff();
  if (card) render(card, state, on);
  if (state === "granted" && registration) {
    const offSent = sessionStorage.getItem(OFF_SENT) === offKey();
    const keep = remindersOff() ? (offSent ? Promise.resolve()
      : sendOff(registration, csrf).then(() => sessionStorage.setItem(OFF_SENT, offKey())))
      : syncSubscription(registration, csrf).then(({ optedOut }) => {
        if (!optedOut) return;
        // turned off on the server (this phone forgot, or settings' Remove)
        rememberOff(true);
        on = false;
        if (card) render(card, state, false);
      });
    keep.catch((error) => card && say(card, error.message || t("You're offline. Reminders will catch up.")))
      // the server has heard from this open
      .finally(() => card?.setAttribute("data-ready", ""));
  } else {
    card?.setAttribute("data-ready", "");
  }
  if (!card) return;
  card.querySelector('[data-action="toggle-reminders"]').addEventListener("click", async (event) => {
    const toggle = event.currentTarget;
    if (on) {
      on = false;
      // at once: even if the server can't be reached now, this phone stays off
      rememberOff(true);
      render(card, state, false);
      say(card, t("Reminders are off on this phone. Your prompt is still here each day."));
      // sent again on the next open while off
      sendOff(registration, csrf).catch(() => {});
      return;
    }
    const asked = Notification.permission === "granted" ? Promise.resolve("granted")
      // first, inside the tap: Safari insists
      : Notification.requestPermission();
    toggle.disabled = true;
    try {
      const permission = await asked;
      if (permission !== "granted") {
        state = permission === "denied" ? "denied" : "default";
        render(card, state, false);
        if (permission !== "denied") say(card, t("No problem. You can turn reminders on whenever you like."));
        return;
      }
      state = "granted";
      await syncSubscription(registration, csrf, true);
      rememberOff(false);
      on = true;
      render(card, state, true);
      say(card, t("Reminders are on. Your next prompt will arrive as a notification."));
    } catch (error) {
      say(card, error.message || t("Something went wrong. Please try again."));
    } finally {
      toggle.disabled = !(state === "default" || state === "granted");
    }
  });
  card.querySelector('[data-action="test-push"]')?.addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    say(card, t("Sending…"));
    try {
      await syncSubscription(registration, csrf);
      const response = await postJson("/api/push/test", {}, csrf);
      const body = await response.json().catch(() => ({}));
      say(card, body.message || t("Sent."));
    } catch (error) {
      say(card, navigator.onLine ? error.message || t("That didn't work. Please try again.") : t("You're offline. Try again when you're connected."));
    } finally {
      button.disabled = false;
    }
  });
}
