// The weekly reflection's answer: saved by an ordinary form POST, but sent with fetch first so a
// lost connection keeps the page (and the words) and says so, instead of a browser error page.
// The words are also kept on this phone until they are saved.
const form = document.getElementById("reflection-form");
const note = document.getElementById("note");
const status = document.getElementById("reflection-offline");
const key = form ? `attune-reflection-${form.dataset.deliveryId}` : "";

function keep() {
  try { localStorage.setItem(key, note.value); } catch { /* private mode: nothing kept */ }
}

function offline() {
  keep();
  status.hidden = false;
  status.textContent = "You're offline, so your answer isn't saved yet. It's still here: tap Save when you're back online.";
  status.focus?.();
}

if (form && note && !note.readOnly) {
  try {
    const draft = localStorage.getItem(key);
    if (draft && !note.value) note.value = draft;
  } catch { /* nothing kept */ }
  note.addEventListener("input", keep);
  form.addEventListener("submit", async (event) => {
    if (form.dataset.sending === "native") return; // the server answers this one itself
    event.preventDefault();
    if (!navigator.onLine) return offline();
    let response;
    try {
      response = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
    } catch {
      return offline();
    }
    if (response.ok && response.redirected) {
      try { localStorage.removeItem(key); } catch { /* nothing kept */ }
      window.location.assign(response.url);
    } else {
      form.dataset.sending = "native"; // nothing was saved: let the page show the server's reason
      form.requestSubmit();
    }
  });
}
