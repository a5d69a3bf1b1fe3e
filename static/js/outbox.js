/* The check-in outbox: check-ins (and one-tap acks) made offline wait in IndexedDB until they are
   sent. A classic script shared by the pages (<script src>) and the service worker (importScripts):
   both can send it, and the check-in's UUID makes a second send harmless (the server answers 200).
   A phone may be shared: a check-in records its account (`owner`, from <meta name="user-id">) and
   goes only while the server says that account is signed in, naming it in X-Attune-Account (409
   wrong_account for anyone else). Others' entries wait for their owner: never posted, never dropped. */
(function (root) {
  "use strict";
  const DB_NAME = "attune";
  const STORE = "outbox";
  const ACCOUNT_HEADER = "X-Attune-Account";
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

  /** The account the page was rendered for (its <meta name="user-id">); null in the service worker. */
  function pageAccount() {
    const meta = root.document ? root.document.querySelector('meta[name="user-id"]') : null;
    return meta && meta.content ? meta.content : null;
  }

  function checkinEntry(body, csrf, owner = pageAccount()) {
    return { key: body.id, kind: "checkin", url: "/api/checkins", owner: owner ? String(owner) : null,
      body, csrf: csrf || null, created: Date.now() };
  }

  /** An ack needs no session (its HMAC token proves it), so any account's session may carry it. */
  function ackEntry(deliveryId, ackToken) {
    return { key: `ack:${deliveryId}`, kind: "ack", url: `/api/deliveries/${deliveryId}/ack`,
      owner: null, body: { ack_token: ackToken }, csrf: null, created: Date.now() };
  }

  const needsAccount = (entry) => entry.kind !== "ack";

  /** Extras ("add more", a PATCH) whose check-in still waits here: they go after it, never before. */
  async function waitingFor(entry) {
    return entry.kind === "extras" && (await all()).some((other) => other.key === entry.checkin);
  }

  /** May ``account`` send this entry? One saved before owners were recorded may be anyone's. */
  const belongsTo = (entry, account) => !needsAccount(entry) ||
    (Boolean(account) && (entry.owner == null || String(entry.owner) === account));

  /** What ``account`` would send (its check-ins, and acks); only check-ins with ``checkinsOnly``. */
  async function entriesFor(account, checkinsOnly = false) {
    return (await all()).filter((e) => belongsTo(e, account) && (!checkinsOnly || needsAccount(e)));
  }

  /** Forget this account's waiting check-ins (erased with the account). */
  async function removeFor(account) {
    for (const entry of await entriesFor(account, true)) {
      if (entry.owner != null) await remove(entry.key);
    }
  }

  /** Who the server says is signed in: an id, "" for nobody (or staff), null if it can't tell. */
  async function signedInAccount() {
    let response;
    try {
      response = await fetch("/api/me", { credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json" } });
    } catch {
      return null;
    }
    if (response.status === 401 || response.status === 403) return "";
    if (!response.ok) return null;
    const body = await response.json().catch(() => null);
    return body && body.user && body.user.id != null ? String(body.user.id) : null;
  }

  /** POST one entry: "sent", "retry" (offline, signed out, server busy, not this account) or "drop". */
  async function send(entry, csrf) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const token = csrf || entry.csrf;
    if (token) headers["X-CSRFToken"] = token;
    if (entry.owner != null) headers[ACCOUNT_HEADER] = String(entry.owner);
    let response;
    try {
      response = await fetch(entry.url, { method: entry.method || "POST", headers, credentials: "same-origin",
        body: JSON.stringify(entry.body) });
    } catch {
      return "retry";
    }
    if (response.ok) return "sent";
    if (response.status === 401 || response.status === 429 || response.status >= 500) return "retry";
    if (response.status === 404 && await waitingFor(entry)) return "retry"; // extras before their check-in
    const problem = await response.json().catch(() => ({}));
    // Keep what may mean only "not now" or "not this account": a stale CSRF token (a page sends a
    // fresh one), another account signed in since we asked, a staff session, or, for an entry with
    // no recorded owner, a prompt or id of another family.
    if (problem.error === "csrf_failed" || problem.error === "wrong_account") return "retry";
    if (needsAccount(entry) && (response.status === 403 ||
        (entry.owner == null && (response.status === 404 || response.status === 409)))) return "retry";
    // Why it was refused, for a page that sent it now and shows the sentence (checkin.js).
    entry.problem = problem;
    return "drop";
  }

  /** Send what the signed-in account may, oldest first; resolves to how many of those still wait. */
  async function flushOnce(csrf) {
    const entries = (await all()).sort((a, b) => a.created - b.created);
    const account = entries.some(needsAccount) ? await signedInAccount() : "";
    let left = 0;
    for (const entry of entries) {
      if (!belongsTo(entry, account)) {
        if (account === null) left += 1; // can't tell who is signed in: try again later
        continue; // someone else's, or nobody is signed in: it waits for its owner
      }
      const outcome = await send(entry, csrf);
      if (outcome === "retry") left += 1;
      else await remove(entry.key);
    }
    return left;
  }

  function flush(csrf) {
    if (!flushing) flushing = flushOnce(csrf).finally(() => { flushing = null; });
    return flushing;
  }

  root.AttuneOutbox = { put, remove, all, count, entriesFor, removeFor, send, flush, checkinEntry,
    ackEntry, pageAccount, signedInAccount, waitingFor };
})(self);
