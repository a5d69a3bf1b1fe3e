// Every staff page: signing out takes this device off the account first, so support alerts about
// families stop arriving on a computer or phone someone else may use next. Bounded: a failing
// server never keeps anyone signed in (the unsubscribe alone stops the pushes: the push service
// then answers 410 and the sender forgets the device).
const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
const within = (ms, promise) => Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);

async function forgetThisDevice() {
  sessionStorage.removeItem("attune-subscription-sent");
  const registration = await navigator.serviceWorker?.getRegistration("/").catch(() => null);
  const subscription = await registration?.pushManager?.getSubscription().catch(() => null);
  if (!subscription) return;
  await fetch("/api/push/subscriptions", { method: "DELETE", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
    body: JSON.stringify({ endpoint: subscription.endpoint }) }).catch(() => null);
  await subscription.unsubscribe().catch(() => false);
}

for (const form of document.querySelectorAll("form[data-signs-out]")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "true";
    within(5000, forgetThisDevice().catch(() => null))
      .then(() => HTMLFormElement.prototype.submit.call(form)); // no second submit event
  });
}
