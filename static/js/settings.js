// Settings: offer the phone's own time zone. (Notifications and the test prompt: notifications.js.)
import { t } from "./notifications.js";
const input = document.querySelector("[data-browser-timezone]");
const button = document.querySelector('[data-action="use-phone-timezone"]');
let zone = "";
try {
  zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
} catch {
  zone = "";
}
if (input && button && zone && zone !== input.value && zone !== input.dataset.zone) {
  button.hidden = false;
  button.textContent = t("Use this phone's time zone (%(zone)s)", { zone: zone.replace(/_/g, " ") });
  button.addEventListener("click", () => {
    input.value = zone;
    button.hidden = true;
    input.focus();
  });
}
