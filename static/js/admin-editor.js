// The prompt editor and its translation pages: counters and the live preview update as you type;
// the server's one validation function (the form's data-check-url) supplies the problems and
// reading scores a moment later. A translation form says how {child} reads (data-child-fallback)
// and scores reading ease, where higher is easier (data-score="ease", data-min-ease).
import { t } from "./notifications.js";

const form = document.getElementById("prompt-form");

const FALLBACK = form?.dataset.childFallback || "your child";
const THEMES = { cues: t("Noticing cues"), rupture: t("Out of sync"), repair: t("Coming back together") };
const MAX_GRADE = 6;
const BY_EASE = form?.dataset.score === "ease";
const MIN_EASE = Number(form?.dataset.minEase || 80);

function setup() {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const childInput = document.getElementById("preview-child");
  const preview = (name) => document.querySelector(`[data-preview="${name}"]`);
  // Problems show only for fields you've touched (and those the server already flagged).
  const touched = new Set();
  for (const el of form.querySelectorAll("[data-error-for]")) {
    if (!el.hidden) touched.add(el.dataset.errorFor);
  }
  let pending = null;
  let timer = 0;

  const fill = (text) => text.replaceAll("{child}", childInput.value.trim() || FALLBACK);
  const asRead = (text) => text.trim().replaceAll("{child}", FALLBACK);

  function values() {
    const data = {};
    for (const [name, value] of new FormData(form)) {
      if (name !== "csrf_token" && name !== "base_version") data[name] = String(value);
    }
    return data;
  }

  function updateCounters() {
    for (const counter of form.querySelectorAll("[data-counter-for]")) {
      const input = form.elements.namedItem(counter.dataset.counterFor);
      const length = asRead(input.value).length;
      const limit = Number(counter.dataset.limit);
      counter.textContent = `${length} / ${limit}`;
      counter.classList.toggle("is-over", length > limit);
    }
  }

  function updateHardToggles(theme) {
    for (const toggle of form.querySelectorAll("[data-hard-toggle]")) {
      const box = toggle.querySelector("input");
      toggle.hidden = theme !== "rupture" && !box.checked;
    }
  }

  function updateCutWarning() {
    const title = preview("title");
    const body = preview("body");
    const titleCut = title.scrollWidth > title.clientWidth + 1;
    const bodyCut = body.scrollHeight > body.clientHeight + 1;
    const warning = document.getElementById("cut-warning");
    warning.hidden = !titleCut && !bodyCut;
    warning.textContent = titleCut && bodyCut
      ? t("A lock screen would cut off the title and the body (shown with “…”). Shorten it so parents see it whole.")
      : titleCut
        ? t("A lock screen would cut off the title (shown with “…”). Shorten it so parents see it whole.")
        : bodyCut
          ? t("A lock screen would cut off the body (shown with “…”). Shorten it so parents see it whole.")
          : "";
  }

  function updatePreview() {
    const data = values();
    preview("title").textContent = fill(data.title || "");
    preview("body").textContent = fill(data.body || "");
    preview("question").textContent = fill(data.question || "");
    preview("why").textContent = fill(data.why || "");
    const theme = preview("theme");
    if (data.theme) {  // a translation keeps its prompt's theme
      theme.textContent = THEMES[data.theme] || data.theme;
      theme.className = `theme-chip theme-${data.theme}`;
    }
    for (const item of document.querySelectorAll("[data-preview-answer]")) {
      const label = (data[`answer-${item.dataset.previewAnswer}-label`] || "").trim();
      item.textContent = label;
      item.hidden = !label;
    }
    updateHardToggles(data.theme);
    updateCutWarning();
  }

  function visible(key, problemKey) {
    if (touched.has(key)) return true;
    // Changing the theme is what makes a "hard moment" mark wrong, so show that at once.
    if (problemKey?.endsWith(".hard") && touched.has("theme")) return true;
    const match = /^answers\.(\d+)/.exec(key);
    if (match) return touched.has(`answers.${match[1]}`);
    return key === "answers" && [...touched].some((name) => name.startsWith("answers."));
  }

  function showProblems(problems) {
    for (const el of form.querySelectorAll("[data-error-for]")) {
      const key = el.dataset.errorFor;
      // An answer row shows the first problem about that row, whatever part it concerns.
      const rowKeys = Object.keys(problems).filter((name) => name === key || name.startsWith(`${key}.`));
      const problemKey = key.startsWith("answers.") ? rowKeys[0] : key;
      const message = problems[problemKey];
      const show = Boolean(message) && visible(key, problemKey);
      el.hidden = !show;
      el.textContent = show ? message : "";
      const holder = el.closest(".answer-row") || el.closest(".field");
      holder?.classList.toggle("has-error", show);
      const input = holder?.querySelector("input:not([type=checkbox]), select, textarea");
      if (input && show) input.setAttribute("aria-invalid", "true");
      else input?.removeAttribute("aria-invalid");
    }
  }

  function showGrades(grades) {
    for (const item of form.querySelectorAll("[data-grade-for]")) {
      const grade = grades[item.dataset.gradeFor];
      item.querySelector("[data-grade-value]").textContent =
        grade == null ? "—" : grade.toFixed(BY_EASE ? 0 : 1);
      const tooHard = BY_EASE ? grade < MIN_EASE : grade > MAX_GRADE;
      item.classList.toggle("is-over", grade != null && tooHard);
    }
  }

  async function check() {
    pending?.abort();
    pending = new AbortController();
    try {
      const response = await fetch(form.dataset.checkUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
        body: JSON.stringify(values()),
        signal: pending.signal,
        credentials: "same-origin",
      });
      if (!response.ok) return; // the save still checks everything
      const result = await response.json();
      showProblems(result.problems || {});
      showGrades(result.grades || {});
    } catch (error) {
      if (error.name !== "AbortError") console.warn("Live check unavailable", error);
    }
  }

  function markTouched(target) {
    const name = target.name || "";
    const answer = /^answer-(\d+)-/.exec(name);
    touched.add(name); // a translation's answer fields carry their own error slots
    if (answer) touched.add(`answers.${answer[1]}`);
  }

  form.addEventListener("input", (event) => {
    markTouched(event.target);
    updateCounters();
    updatePreview();
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  form.addEventListener("change", (event) => {
    markTouched(event.target);
    updatePreview();
    clearTimeout(timer);
    timer = setTimeout(check, 50);
  });
  childInput.addEventListener("input", updatePreview);
  window.addEventListener("resize", updateCutWarning);

  updateCounters();
  updatePreview();
}

if (form) setup();
