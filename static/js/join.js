// Fill the time zone from the browser so a parent never has to know its IANA name.
const input = document.querySelector("[data-browser-timezone]");
if (input && !input.value) {
  try {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    // Old browsers: the parent types it; the server checks it.
  }
}
