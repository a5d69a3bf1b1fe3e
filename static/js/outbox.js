/* The check-in outbox: check-ins (and one-tap acks) made offline wait in IndexedDB until they are
   sent. A classic script shared by the pages (<script src>) and the service worker (importScripts):
   both can send it, and the check-in's UUID makes a second send harmless (the server answers 200). */
(function (root) {
  "use strict";
  const DB_NAME = "attune";
  const STORE = "outbox";
  let flushing = null; // one flush at a time in each page or worker

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function run(mode, work) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const result = work(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  const put = (entry) => run("readwrite", (store) => store.put(entry));
  const remove = (key) => run("readwrite", (store) => store.delete(key));
  const all = () => run("readonly", (store) => store.getAll());
  const count = () => run("readonly", (store) => store.count());

  function checkinEntry(body, csrf) {
    return { key: body.id, kind: "checkin", url: "/api/checkins", body, csrf: csrf || null, created: Date.now() };
  }

  function ackEntry(deliveryId, ackToken) {
    return { key: `ack:${deliveryId}`, kind: "ack", url: `/api/deliveries/${deliveryId}/ack`,
      body: { ack_token: ackToken }, csrf: null, created: Date.now() };
  }

  /** POST one entry: "sent", "retry" (offline, signed out, server busy) or "drop" (refused for good). */
  async function send(entry, csrf) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const token = csrf || entry.csrf;
    if (token) headers["X-CSRFToken"] = token;
    let response;
    try {
      response = await fetch(entry.url, { method: "POST", headers, credentials: "same-origin",
        body: JSON.stringify(entry.body) });
    } catch {
      return "retry";
    }
    if (response.ok) return "sent";
    if (response.status === 401 || response.status === 429 || response.status >= 500) return "retry";
    if (response.status === 400) {
      const body = await response.json().catch(() => ({}));
      if (body.error === "csrf_failed") return "retry"; // an old token: a page will send it with a fresh one
    }
    return "drop";
  }

  /** Send everything waiting, oldest first; resolves to how many are still waiting. */
  function flush(csrf) {
    if (!flushing) {
      flushing = (async () => {
        const entries = (await all()).sort((a, b) => a.created - b.created);
        let left = 0;
        for (const entry of entries) {
          const outcome = await send(entry, csrf);
          if (outcome === "retry") left += 1;
          else await remove(entry.key);
        }
        return left;
      })().finally(() => { flushing = null; });
    }
    return flushing;
  }

  root.AttuneOutbox = { put, remove, all, count, send, flush, checkinEntry, ackEntry };
})(self);
