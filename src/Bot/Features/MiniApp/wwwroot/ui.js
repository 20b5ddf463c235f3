// Small DOM helpers shared by the panels. Text always goes in as textContent: names and titles come from Telegram
// users and are never parsed as markup.
import { t } from './i18n.js';

/**
 * Makes an element: attrs are attributes (class, data-*, type…; false/null/undefined are skipped, true is an empty
 * attribute), children are nodes or strings (strings become text nodes).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

let toastTimer = 0;

/** Shows a short message for ~3 s. The text stays in #toast (only hidden) until the next one replaces it. */
export function toast(message) {
  const box = $('#toast');
  box.textContent = message;
  box.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove('show'), 3000);
}

/** Shows the last error in #error (tap to dismiss). */
export function showError(detail) {
  if (!$('#refusal').hidden) return; // refused: nothing else is shown
  const box = $('#error');
  box.textContent = t('errorPrefix') + detail;
  box.hidden = false;
}

export function clearError() {
  $('#error').hidden = true;
}

/** What to tell the user about a failed call. */
export function describe(error) {
  if (!error || typeof error.status !== 'number') return String(error && error.message ? error.message : error);
  if (error.status === 0) return t('err.network');
  if (error.status === 429) return t('err.tooMany');
  return error.problem.detail || error.problem.title || t('err.http', { status: error.status });
}

/**
 * Reports a failed call: 401 needs nothing (the refusal page is shown); a 400 with field errors marks the fields of
 * form (elements [data-error-for="name"]); anything else goes to #error.
 */
export function report(error, form = null) {
  if (error && error.status === 401) return;
  const errors = error && error.problem && error.problem.errors;
  if (form && error.status === 400 && errors && typeof errors === 'object') {
    const unplaced = showFieldErrors(form, errors);
    showError(unplaced.length ? unplaced.join(' ') : describe(error));
    return;
  }
  showError(describe(error));
}

/** Puts each field's messages next to it; returns the messages for which the form has no place. */
export function showFieldErrors(form, errors) {
  clearFieldErrors(form);
  const slots = $$('[data-error-for]', form);
  const unplaced = [];
  for (const [key, value] of Object.entries(errors)) {
    const messages = (Array.isArray(value) ? value : [value]).map(String);
    // Server keys may be "attempts", "Attempts", "$.attempts" or "audience.activeWithinDays".
    const names = [key, key.replace(/^\$\./, ''), key.split('.').pop()].map((n) => n.toLowerCase());
    const slot = slots.find((s) => names.includes(s.dataset.errorFor.toLowerCase()));
    if (slot) {
      slot.textContent = messages.join(' ');
      slot.hidden = false;
      const field = form.elements.namedItem(slot.dataset.errorFor);
      if (field && field.setAttribute) field.setAttribute('aria-invalid', 'true');
    } else {
      unplaced.push(...messages);
    }
  }
  return unplaced;
}

export function clearFieldErrors(form) {
  for (const slot of $$('[data-error-for]', form)) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const field of $$('[aria-invalid]', form)) field.removeAttribute('aria-invalid');
}

/**
 * A button that asks before it acts: the first tap turns it into "tap again" (data-confirm="true") for 4 s; a second
 * tap within that time runs action.
 */
export function confirmButton(button, confirmLabel, action) {
  const label = button.textContent;
  let timer = 0;
  const reset = () => {
    clearTimeout(timer);
    delete button.dataset.confirm;
    button.textContent = label;
  };
  button.addEventListener('click', () => {
    if (button.dataset.confirm === 'true') {
      reset();
      action();
      return;
    }
    button.dataset.confirm = 'true';
    button.textContent = confirmLabel;
    timer = setTimeout(reset, 4000);
  });
  return button;
}

/** Runs a call with the given buttons disabled, so a double tap does not send twice. */
export async function busy(buttons, call) {
  for (const b of buttons) b.disabled = true;
  try {
    return await call();
  } finally {
    for (const b of buttons) if (b.isConnected) b.disabled = false;
  }
}
