// Signing out on a phone that may be shared (loaded by app.js on the tap): warn when this account's
// check-ins are still waiting, then take this device off the account so its prompts stop coming.
import { csrfToken, sendOutbox } from "./app.js";
import { SENT_KEY, t } from "./notifications.js";

const within = (ms, promise) => Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);

function element(tag, attributes, text) {
  const node = Object.assign(document.createElement(tag), attributes);
  if (text) node.textContent = text;
  return node;
}

function waitingText(waiting) {
  return waiting === 1
    ? t("1 check-in hasn't been sent yet. If you sign out now it will wait on this phone and go when you sign in again.")
    : t("%(count)s check-ins haven't been sent yet. If you sign out now they will wait on this phone and go when you sign in again.", { count: waiting });
}

/** A modal dialog (focus starts on the safe choice, Escape stays); resolves true for "Sign out anyway". */
function confirmSignOut(waiting, opener) {
  const dialog = element("dialog", { className: "confirm-dialog" });
  dialog.setAttribute("aria-labelledby", "signout-title");
  dialog.setAttribute("aria-describedby", "signout-text");
  const choices = element("form", { method: "dialog", className: "form-actions" });
  choices.append(
    element("button", { className: "btn", value: "stay", autofocus: true }, t("Stay signed in")),
    element("button", { className: "btn-secondary", value: "leave" }, t("Sign out anyway")));
  dialog.append(element("h2", { id: "signout-title" }, t("Sign out?")),
    element("p", { id: "signout-text" }, waitingText(waiting)), choices);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const leave = dialog.returnValue === "leave";
      dialog.remove();
      if (!leave) opener?.focus();
      resolve(leave);
    });
    dialog.showModal();
  });
}

/** Deleting needs the account's email or the word "delete" (the server's rule): only then is the
    phone's copy of this account's waiting check-ins erased with it. */
async function confirmsDeletion(form) {
  const typed = (form.elements.confirm?.value || "").trim().toLowerCase();
  if (typed === "delete" || typed === "borrar") return true;
  const me = await within(4000, fetch("/api/me", { credentials: "same-origin", cache: "no-store" })
    .then((response) => (response.ok ? response.json() : null)).catch(() => null));
  return Boolean(typed && me?.user?.email && typed === me.user.email.toLowerCase());
}

/** Take this device off the account on the server, then unsubscribe it in the browser. If the
    server can't be reached, the unsubscribe still stops the prompts: the push service then answers
    410 and the sender forgets the device. */
async function forgetThisDevice(registration) {
  sessionStorage.removeItem(SENT_KEY); // the next account sends its own subscription
  const subscription = await registration?.pushManager?.getSubscription().catch(() => null);
  if (!subscription) return false;
  await fetch("/api/push/subscriptions", { method: "DELETE", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ endpoint: subscription.endpoint }) }).catch(() => null); // see above
  return subscription.unsubscribe().catch(() => false);
}

/** Resolves true when the form should now be submitted (signing out, or deleting the account). */
export async function signOut(form, workerReady) {
  const outbox = self.AttuneOutbox;
  const account = outbox?.pageAccount();
  const deleting = form.dataset.signsOut === "delete";
  if (deleting && !(await confirmsDeletion(form))) return true; // the server explains what to type
  if (!deleting && account) {
    await within(4000, sendOutbox()); // one last try, so the warning covers only what can't go now
    const waiting = (await outbox.entriesFor(account, true).catch(() => [])).filter((e) => e.kind === "checkin").length;
    if (waiting && !(await confirmSignOut(waiting, form.querySelector('[type="submit"]')))) return false;
  }
  if (deleting && account) await outbox.removeFor(account).catch(() => {}); // erased with the account
  // Bounded: a failing server must not keep anyone signed in on a shared phone.
  await within(5000, workerReady.then(forgetThisDevice));
  return true;
}
