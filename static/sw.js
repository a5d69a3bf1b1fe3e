/* Attune service worker, served at /sw.js (root scope) by coach/pwa.py, which fills in VERSION (a
   hash of this file and the shell) and SHELL. A classic script: importScripts works everywhere. */
"use strict";

const VERSION = "__VERSION__";
const SHELL = ["__SHELL__"];
const SHELL_CACHE = `attune-shell-${VERSION}`;
// pages and API reads, kept across versions for offline use
const PAGES_CACHE = "attune-pages-v1";
// slow network with a cached copy: show the copy
const NETWORK_WAIT_MS = 6000;
const FALLBACK_TITLE = "Attune";
// The worker's own words in every language but English, from the catalogue (coach/pwa.py fills it
// in: {"es": {"<English>": "<Spanish>"}}). A push names its language ("lang"); a notification with
// nothing readable follows the phone's language.
const WORDS = {"__WORDS__": 0};
const phoneLanguage = () => (self.navigator?.language || "en").slice(0, 2);
const say = (text, lang = phoneLanguage()) => WORDS[lang]?.[text] || text;
const FALLBACK_BODY = "A small moment for today is waiting for you.";
const ICON = "/static/icons/icon-192.png";
const BADGE = "/static/icons/badge-72.png";

// self.AttuneOutbox, shared with the pages
importScripts("/static/js/outbox.js");

// --- install / activate: a versioned app shell, old versions deleted ---------------------------

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // "no-cache" revalidates with the server, so an unchanged file costs a 304, not a download.
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: "no-cache" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL_CACHE, PAGES_CACHE]);
    for (const name of await caches.keys()) {
      if (name.startsWith("attune-") && !keep.has(name)) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// --- fetch: shell cache-first; pages and API reads network-first with a cached fallback --------

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    if (request.mode === "navigate" && (url.pathname === "/logout" || url.pathname === "/settings/delete")) {
      // signing out or deleting: forget cached pages
      event.waitUntil(caches.delete(PAGES_CACHE));
    }
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(shellFirst(request));
  } else if (request.mode === "navigate" || url.pathname.startsWith("/api/") || wantsHtml(request)) {
    event.respondWith(networkFirst(request, url));
  }
});

function wantsHtml(request) {
  return (request.headers.get("Accept") || "").includes("text/html");
}

async function shellFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true });
  return cached || fetch(request);
}

async function networkFirst(request, url) {
  const cache = await caches.open(PAGES_CACHE);
  const cached = await cache.match(request);
  try {
    const response = await withTimeout(fetch(request), cached ? NETWORK_WAIT_MS : 0);
    if (response.ok && !response.redirected && url.pathname !== "/api/me/export") {
      await cache.put(request, response.clone());
    } else if (response.redirected && new URL(response.url).pathname === "/login") {
      // signed out elsewhere: personal pages must not linger
      await caches.delete(PAGES_CACHE);
    }
    return response;
  } catch (error) {
    if (cached) return cached;
    if (url.pathname.startsWith("/api/")) {
      return new Response(JSON.stringify({ error: "offline", message: say("You're offline. This will work again when you're back online.") }),
        { status: 503, headers: { "Content-Type": "application/json" } });
    }
    return (await caches.match("/offline", { cacheName: SHELL_CACHE })) || Response.error();
  }
}

function withTimeout(promise, ms) {
  if (!ms) return promise;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("slow network")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); });
  });
}

// --- push: a notification for every push, whichever form the payload takes -------------------

self.addEventListener("push", (event) => {
  event.waitUntil(showPush(readPush(event.data)));
});

function readPush(data) {
  let raw = null;
  try {
    raw = data ? data.json() : null;
  } catch {
    try { raw = { body: data.text() }; } catch { raw = null; }
  }
  return notificationFromPayload(raw);
}

/** Both payload forms: flat {title, body, url, ...} and declarative {web_push: 8030, notification}. */
function notificationFromPayload(raw) {
  const flat = raw && typeof raw === "object" ? raw : {};
  const inner = flat.notification && typeof flat.notification === "object" ? flat.notification : {};
  const text = (value) => (typeof value === "string" && value.trim() ? value.trim() : "");
  const url = sameOriginPath(text(flat.url) || text(inner.navigate)) || "/";
  const deliveryId = Number.isInteger(flat.delivery_id) ? flat.delivery_id : deliveryFromPath(url);
  const ackToken = text(flat.ack_token);
  const canAck = Boolean(deliveryId && ackToken);
  const lang = text(flat.lang) || phoneLanguage();
  // The payload names its actions (a weekly reflection offers only "Later"); none named: both.
  const named = Array.isArray(flat.actions) ? flat.actions.map((a) => a && a.action) : ["tried", "later"];
  const actions = canAck ? [
    { action: "tried", title: actionTitle(flat.actions, "tried", say("I tried it", lang)) },
    { action: "later", title: actionTitle(flat.actions, "later", say("Later", lang)) },
  ].filter((a) => named.includes(a.action)) : [];
  return {
    title: text(flat.title) || text(inner.title) || FALLBACK_TITLE,
    options: {
      body: text(flat.body) || text(inner.body) || say(FALLBACK_BODY, lang),
      tag: text(flat.tag) || text(inner.tag) || "attune",
      icon: ICON,
      badge: BADGE,
      data: { url, delivery_id: deliveryId || null, ack_token: ackToken || null, lang },
      actions,
    },
  };
}

function actionTitle(actions, name, fallback) {
  const found = Array.isArray(actions) ? actions.find((a) => a && a.action === name) : null;
  return found && typeof found.title === "string" && found.title ? found.title : fallback;
}

function sameOriginPath(value) {
  if (!value) return "";
  try {
    const url = new URL(value, self.location.origin);
    return url.origin === self.location.origin ? url.pathname + url.search : "";
  } catch {
    return "";
  }
}

function deliveryFromPath(path) {
  const match = /^\/checkin\/(\d+)/.exec(path || "");
  return match ? Number(match[1]) : null;
}

async function showPush(notification) {
  try {
    await self.registration.showNotification(notification.title, notification.options);
  } catch {
    // A platform that rejects some option still gets a notification (iOS revokes silent pushes).
    await self.registration.showNotification(FALLBACK_TITLE, { body: say(FALLBACK_BODY), icon: ICON });
  }
}

// --- notification clicks ----------------------------------------------------------------------

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(handleNotificationClick(event.notification, event.action));
});

/** The one click handler: "tried" checks in from the notification; anything else opens the app. */
async function handleNotificationClick(notification, action) {
  const data = notification.data || {};
  notification.close();
  if (action === "tried" && data.delivery_id && data.ack_token) {
    await acknowledge(data);
    return;
  }
  if (action === "later" && data.delivery_id && data.ack_token) {
    await snooze(data);
    return;
  }
  const opened = data.delivery_id && data.ack_token ? markOpened(data) : Promise.resolve();
  await Promise.all([openOrFocus(data.url || "/"), opened]);
}

/** A short notification saying what an action did (one at a time: each replaces the last). */
function confirm(body, data) {
  return self.registration.showNotification(FALLBACK_TITLE, { body, tag: "attune-confirm", icon: ICON,
    badge: BADGE, silent: true, data: { url: data.url || "/" } }).catch(() => {});
}

async function acknowledge(data) {
  const entry = self.AttuneOutbox.ackEntry(data.delivery_id, data.ack_token);
  const result = await self.AttuneOutbox.send(entry);
  if (result === "retry") {
    await self.AttuneOutbox.put(entry);
    await requestSync();
  }
  await confirm(result === "retry" ? say("Noted: it saves when you're online. Well done for trying it.", data.lang)
    : say("Saved to your journal. Well done for trying it.", data.lang), data);
  await tellClients({ type: "outbox-changed" });
}

/** "Later": the server pushes the same prompt again in an hour (at most twice, while the day
    lasts); when it can't, its sentence says why. */
async function snooze(data) {
  let body = {};
  try {
    const response = await fetch(`/api/deliveries/${data.delivery_id}/snooze`, { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ack_token: data.ack_token }) });
    body = await response.json();
  } catch {
    // offline (or an answer that isn't ours): the sentence below
  }
  await confirm(body.message || say("We can't remind you later right now. It's in the app whenever you're ready.", data.lang), data);
}

async function markOpened(data) {
  try {
    await fetch(`/api/deliveries/${data.delivery_id}/opened`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ack_token: data.ack_token }),
    });
  } catch {
    // Offline: "opened" is a nicety for the worker's dashboard, not worth a retry queue.
  }
}

async function openOrFocus(path) {
  const target = new URL(path, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const same = windows.find((client) => client.url === target);
  if (same) return focusQuietly(same);
  const ours = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (!ours) return self.clients.openWindow(target);
  const focused = await focusQuietly(ours);
  try {
    return await focused.navigate(target);
  } catch {
    // an uncontrolled window navigates itself
    focused.postMessage({ type: "navigate", url: path });
    return focused;
  }
}

async function focusQuietly(client) {
  try {
    return (await client.focus()) || client;
  } catch {
    // focusing needs a user's click; the window is still ours to navigate
    return client;
  }
}

// --- the outbox: check-ins made offline, sent when the network is back ------------------------

self.addEventListener("sync", (event) => {
  if (event.tag === "checkins") event.waitUntil(flushOutbox(true));
});

/** The same rule as the pages (outbox.js): only the check-ins of the account the server says is
    signed in are posted; another account's wait for their owner and don't make the sync retry. */
async function flushOutbox(throwIfLeft) {
  const left = await self.AttuneOutbox.flush();
  await tellClients({ type: "outbox-changed" });
  // the browser retries later
  if (left && throwIfLeft) throw new Error(`${left} check-ins still waiting`);
}

async function requestSync() {
  try {
    if (self.registration.sync) await self.registration.sync.register("checkins");
  } catch {
    // No Background Sync: the pages send the outbox when they open or come online.
  }
}

async function tellClients(message) {
  for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
    client.postMessage(message);
  }
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "flush-outbox") {
    event.waitUntil(flushOutbox(false));
  } else if (message.type === "test-notificationclick") {
    // Browser tests can't click a system notification: they ask for the very same handler.
    event.waitUntil(self.registration.getNotifications({ tag: message.tag }).then((shown) =>
      shown.length ? handleNotificationClick(shown[0], message.action || "") : null));
  }
});
