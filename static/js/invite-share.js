// The new invite's Share, Copy and Print buttons. Share uses the Web Share API where the phone has
// it and falls back to copying; Copy uses the clipboard, or selects the link for a manual copy.
// Without JavaScript the buttons stay hidden and the link, the text-message link and the QR code
// still work.

import { t } from "./notifications.js";

const card = document.querySelector("[data-invite]");

function say(text) {
  const status = card.querySelector("[data-invite-status]");
  status.textContent = "";
  // A fresh message each time, so screen readers announce a repeat too.
  window.setTimeout(() => { status.textContent = text; }, 50);
}

function selectLink() {
  const link = card.querySelector(".invite-link");
  const range = document.createRange();
  range.selectNodeContents(link);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

async function copyLink() {
  const url = card.dataset.url;
  try {
    await navigator.clipboard.writeText(url);
    say(card.dataset.copied || t("Link copied. Paste it into a message to the parent."));
  } catch {
    selectLink();
    say(t("The link is selected: copy it with your phone's or computer's copy command."));
  }
}

async function shareLink() {
  const data = { title: t("Join Attune"), text: card.dataset.shareText, url: card.dataset.url };
  if (navigator.share && (!navigator.canShare || navigator.canShare(data))) {
    try {
      await navigator.share(data);
      say(t("Shared."));
    } catch (error) {
      if (error.name !== "AbortError") await copyLink();
    }
    return;
  }
  await copyLink();
}

if (card) {
  const actions = {
    "share-invite": shareLink,
    "copy-invite": copyLink,
    "print-invite": () => window.print(),
  };
  for (const [action, run] of Object.entries(actions)) {
    const button = card.querySelector(`[data-action="${action}"]`);
    button.hidden = false;
    button.addEventListener("click", run);
  }
}
