// Broadcasts, for the bot's admins: a form for a new text broadcast (with a live audience count) and the list of
// broadcasts with their progress and operations. While one is going out the list is polled every 1.5 s.
import { api } from './net.js';
import { t, dateTime } from './i18n.js';
import { el, $, $$, toast, report, showError, describe, clearError, showFieldErrors, clearFieldErrors, confirmButton, busy } from './ui.js';

const POLL_MS = 1500;
const MAX_TEXT = 4096;

/** The operations each state offers, in button order. */
const OPS = {
  draft: ['send', 'preview', 'cancel'],
  scheduled: ['preview', 'cancel'],
  running: ['pause', 'cancel'],
  sending: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  done: ['preview', 'edit', 'withdraw'],
};
/** Operations that ask for a second tap. */
const CONFIRM = new Set(['cancel', 'withdraw']);

/** Going out, or an edit / withdraw job running over its copies: the list is polled meanwhile. */
const isGoingOut = (b) => b.state === 'running' || b.state === 'sending' || b.jobState === 'running';
const time = (value) => (value ? new Date(value).getTime() : NaN);

/** Percent of the recipients dealt with (sent, failed or blocked): 100 once done, 0 while there are none yet. */
export function progress(b) {
  if (b.state === 'done') return 100;
  const recipients = Number(b.recipients) || 0;
  if (recipients <= 0) return 0;
  const handled = (Number(b.sent) || 0) + (Number(b.failed) || 0) + (Number(b.blocked) || 0);
  return Math.max(0, Math.min(100, Math.floor((handled / recipients) * 100)));
}

function audienceText(audience = {}) {
  const parts = [];
  parts.push(Array.isArray(audience.languages) && audience.languages.length ? audience.languages.join(', ') : t('allLanguages'));
  if (audience.activeWithinDays) parts.push(t('activeDays', { n: audience.activeWithinDays }));
  if (audience.member) parts.push(t('membersOnly'));
  return parts.join(' · ');
}

/** The card's changing part: times, audience, counts and the progress bar. */
function info(b) {
  const p = progress(b);
  const fill = el('div', { class: 'fill', 'data-progress': p });
  fill.style.width = p + '%';
  const times = [['createdAt', b.createdAt], ['scheduledFor', b.scheduledAt], ['startedAt', b.startedAt], ['finishedAt', b.finishedAt]]
    .filter(([, v]) => v)
    .map(([key, v]) => el('span', {}, `${t(key)} ${dateTime(v)}`));
  const counts = [['recipients', b.recipients], ['sent', b.sent], ['failed', b.failed], ['blocked', b.blocked]]
    .map(([key, v]) => el('span', { class: 'count', 'data-field': key }, el('b', {}, String(Number(v) || 0)), ' ' + t(key)));
  // The last edit or withdraw over the delivered copies.
  const job = b.job
    ? el('p', { class: 'muted job' }, t('jobProgress', {
      job: t('op.' + b.job), state: t('jobState.' + (b.jobState || 'running')), done: Number(b.jobDone) || 0, failed: Number(b.jobFailed) || 0,
    }))
    : null;
  return [
    el('p', { class: 'times muted' }, times),
    el('p', { class: 'audience muted' }, audienceText(b.audience)),
    el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': p }, fill),
    el('p', { class: 'counts' }, counts),
    b.pausedReason ? el('p', { class: 'muted' }, b.pausedReason) : null,
    job,
  ];
}

export function createBroadcasts(panel) {
  const list = $('#broadcasts', panel);
  const empty = $('#broadcasts-empty', panel);
  const form = $('#broadcast-form', panel);
  const fields = form.elements;
  const count = $('#audience-count', panel);
  const counter = $('#text-counter', panel);
  /** id → { card, state, info, ops }: cards are updated in place, so an open editor or armed button survives a poll. */
  const cards = new Map();
  let broadcasts = [];
  let visible = false;
  let timer = 0;
  let seq = 0;

  // ---- the list ----

  /** Runs op on b and redraws its card; resolves true on success. */
  async function operate(b, op, body = {}, editor = null) {
    clearError();
    const card = cards.get(String(b.id));
    try {
      const result = await busy(card ? $$('button', card.card) : [], () =>
        api(`broadcasts/${encodeURIComponent(b.id)}/${op}`, { method: 'POST', body }));
      toast(t('opDone.' + op));
      if (result && result.id !== undefined && result.state) {
        seq++; // a list fetched before this answer is older than it: drop it
        update(result);
        broadcasts = broadcasts.map((x) => (String(x.id) === String(result.id) ? result : x));
        schedule();
      } else {
        load(); // preview answers with what it queued, not the broadcast
      }
      return true;
    } catch (error) {
      if (editor && error.status === 400) report(error, editor);
      else report(error);
      return false;
    }
  }

  function editor(b, card) {
    const box = el('form', { class: 'editor', novalidate: true });
    const text = el('textarea', { name: 'text', rows: 3, maxlength: MAX_TEXT, placeholder: t('editPlaceholder') });
    const save = el('button', { type: 'submit', class: 'small' }, t('editSave'));
    const close = el('button', { type: 'button', class: 'small secondary' }, t('editClose'));
    box.append(text, el('p', { class: 'field-error', 'data-error-for': 'text', hidden: true }), el('div', { class: 'ops' }, save, close));
    close.addEventListener('click', () => box.remove());
    box.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFieldErrors(box);
      if (!text.value.trim()) {
        showFieldErrors(box, { text: [t('err.required')] });
        return;
      }
      if (await operate(b, 'edit', { text: text.value }, box)) box.remove();
    });
    card.append(box);
    text.focus();
  }

  function opsFor(b, card) {
    // Only text messages can be edited; a broadcast that says it is not one offers no edit.
    return (OPS[b.state] || []).filter((op) => op !== 'edit' || b.isText !== false).map((op) => {
      const button = el('button', { type: 'button', class: 'small' + (CONFIRM.has(op) ? ' danger' : op === 'preview' ? ' secondary' : ''), 'data-op': op },
        t('op.' + op));
      if (CONFIRM.has(op)) confirmButton(button, t('confirm.' + op), () => operate(b, op));
      else if (op === 'edit') button.addEventListener('click', () => $('.editor', card) || editor(b, card));
      else button.addEventListener('click', () => operate(b, op));
      return button;
    });
  }

  /** Draws b into its card (making the card the first time); a card whose state changed gets new buttons. */
  function update(b) {
    const id = String(b.id);
    let entry = cards.get(id);
    if (!entry) {
      const card = el('div', { class: 'bcard', 'data-broadcast-id': id });
      entry = { card, state: null, head: el('div', { class: 'bhead' }), info: el('div', { class: 'binfo' }), ops: el('div', { class: 'ops' }) };
      card.append(entry.head, entry.info, entry.ops);
      cards.set(id, entry);
    }
    entry.card.dataset.state = b.state;
    entry.info.replaceChildren(...info(b).filter(Boolean));
    if (entry.state !== b.state) {
      entry.state = b.state;
      entry.head.replaceChildren(
        el('span', { class: 'state state-' + b.state }, t('state.' + b.state)),
        el('span', { class: 'muted' }, '#' + id));
      entry.ops.replaceChildren(...opsFor(b, entry.card));
      $('.editor', entry.card)?.remove();
    }
    return entry.card;
  }

  function render(items) {
    broadcasts = items;
    const keep = new Set(items.map((b) => String(b.id)));
    for (const [id, entry] of cards) {
      if (!keep.has(id)) {
        entry.card.remove();
        cards.delete(id);
      }
    }
    // Put the cards in the server's order, moving only those out of place (a moved node loses focus).
    items.forEach((b, i) => {
      const card = update(b);
      if (list.children[i] !== card) list.insertBefore(card, list.children[i] || null);
    });
    empty.hidden = items.length > 0;
  }

  /**
   * Polls while the tab is visible and a broadcast is going out or due to start. A scheduled one due within half an
   * hour gets one timer for its time.
   */
  function schedule(retry = false) {
    clearTimeout(timer);
    timer = 0;
    if (!visible || document.hidden) return;
    const now = Date.now();
    const due = (b) => b.state === 'scheduled' && time(b.scheduledAt) <= now && now - time(b.scheduledAt) < 10 * 60000;
    let delay = broadcasts.some((b) => isGoingOut(b) || due(b)) ? POLL_MS : null;
    if (delay === null) {
      const next = Math.min(...broadcasts.filter((b) => b.state === 'scheduled' && time(b.scheduledAt) > now).map((b) => time(b.scheduledAt)));
      if (next - now < 30 * 60000) delay = Math.max(POLL_MS, next - now + 1000);
    }
    if (retry && delay !== null) delay = Math.max(delay, 5000);
    if (delay !== null) timer = setTimeout(load, delay);
  }

  async function load() {
    const mine = ++seq;
    clearTimeout(timer);
    try {
      const data = await api('broadcasts');
      if (mine !== seq) return;
      render((data && Array.isArray(data.broadcasts)) ? data.broadcasts : []);
      schedule();
    } catch (error) {
      if (mine !== seq) return;
      report(error);
      if (error.status !== 401 && error.status !== 403) schedule(true); // a passing failure: try again, slower
    }
  }

  // ---- the new broadcast form ----

  /** The audience the form describes, with unset keys left out. */
  function audience() {
    const a = {};
    const languages = $$('input[name=languages]:checked', form).map((c) => c.value);
    if (languages.length) a.languages = languages;
    const days = fields.activeWithinDays.value.trim();
    if (days !== '') a.activeWithinDays = Number(days);
    if (fields.member.checked) a.member = true;
    return a;
  }

  let countTimer = 0;
  let countSeq = 0;
  function recount() {
    clearTimeout(countTimer);
    count.textContent = '…';
    countTimer = setTimeout(async () => {
      const mine = ++countSeq;
      try {
        const data = await api('broadcasts/audience-count', { method: 'POST', body: { audience: audience() } });
        if (mine === countSeq) count.textContent = String(Number(data && data.count) || 0);
      } catch (error) {
        if (mine !== countSeq) return;
        count.textContent = '—';
        if (error.status === 400 && error.problem.errors) showFieldErrors(form, error.problem.errors);
        else if (error.status === 400) showError(describe(error));
        else report(error);
      }
    }, 300);
  }

  function whenChanged() {
    const later = fields.when.value === 'later';
    fields.scheduledAt.disabled = !later;
    if (later) {
      // The earliest choice: a minute from now, in local time as datetime-local wants it.
      const d = new Date(Date.now() + 60000 - new Date().getTimezoneOffset() * 60000);
      fields.scheduledAt.min = d.toISOString().slice(0, 16);
    }
  }

  const textChanged = () => {
    counter.textContent = `${fields.text.value.length}/${MAX_TEXT}`;
  };

  form.addEventListener('input', (event) => {
    if (event.target === fields.text) textChanged();
    else if (event.target.closest('.audience-fields')) recount();
  });
  form.addEventListener('change', (event) => {
    if (event.target.name === 'when') whenChanged();
    else if (event.target.closest('.audience-fields') && event.target.type === 'checkbox') recount();
  });

  // form-action 'none': the form never submits natively, the page sends it.
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    clearFieldErrors(form);
    const text = fields.text.value;
    const when = fields.when.value || 'now';
    const missing = {};
    if (!text.trim()) missing.text = [t('err.required')];
    const at = when === 'later' ? new Date(fields.scheduledAt.value) : null;
    if (at && Number.isNaN(at.getTime())) missing.scheduledAt = [t('err.required')];
    if (Object.keys(missing).length) {
      showFieldErrors(form, missing);
      return;
    }
    const body = { text, audience: audience(), draft: when === 'draft', scheduledAt: at ? at.toISOString() : null };
    try {
      // Creating waits until the text reached the admin's own chat (up to ~20 s): the button stays disabled meanwhile.
      await busy([$('button[type=submit]', form)], () => api('broadcasts', { method: 'POST', body }));
      form.reset();
      whenChanged();
      textChanged();
      recount();
      toast(t('created.' + when));
      load();
    } catch (error) {
      report(error, form);
    }
  });

  document.addEventListener('visibilitychange', () => {
    if (!visible) return;
    if (document.hidden) clearTimeout(timer);
    else load();
  });
  $('[data-refresh=broadcasts]', panel).addEventListener('click', () => {
    clearError();
    load();
  });

  let counted = false;
  return {
    /** The tab was shown (true) or left (false): polling runs only while it is shown. */
    setVisible(shown) {
      visible = shown;
      if (!shown) {
        clearTimeout(timer);
        return;
      }
      load();
      if (!counted) {
        counted = true;
        whenChanged();
        textChanged();
        recount();
      }
    },
  };
}
