// The gate's settings of one chat (a form) and the log of their changes.
import { api } from './net.js';
import { t, recent, duration } from './i18n.js';
import { el, $, toast, report, clearError, clearFieldErrors, busy } from './ui.js';

export const DEADLINES = [60, 120, 300, 600, 1800, 3600, 14400, 86400];
const KINDS = ['arithmetic', 'emoji', 'questions'];

/** The form's name of an audited setting: the log names them check_kind, deadline_seconds… */
function settingName(setting) {
  const plain = String(setting).replace(/_/g, '').toLowerCase();
  return ['enabled', 'checkKind', 'attempts', 'deadlineSeconds'].find((n) => n.toLowerCase() === plain) || String(setting);
}

/** A setting's value as the audit shows it: check kinds and deadlines in words, anything else as stored. */
function auditValue(setting, value) {
  if (value === null || value === undefined || value === '') return '—';
  if (setting === 'checkKind' && KINDS.includes(String(value))) return t('kind.' + value);
  if (setting === 'deadlineSeconds' && /^\d+$/.test(String(value))) return duration(Number(value), 'short');
  return String(value);
}

export function createSettings(panel) {
  const form = $('#settings-form', panel);
  const fields = form.elements;
  const fieldset = $('fieldset', form);
  const audit = $('#audit', panel);
  const auditEmpty = $('#audit-empty', panel);
  let seq = 0;
  let current = null;

  function deadlineOptions(selected) {
    const steps = DEADLINES.includes(selected) || !(selected > 0) ? DEADLINES : [...DEADLINES, selected].sort((a, b) => a - b);
    fields.deadlineSeconds.replaceChildren(...steps.map((s) => el('option', { value: s }, duration(s))));
  }

  function render(data) {
    const s = (data && data.settings) || {};
    clearFieldErrors(form);
    fields.enabled.checked = Boolean(s.enabled);
    fields.checkKind.value = KINDS.includes(s.checkKind) ? s.checkKind : KINDS[0];
    fields.attempts.value = String(s.attempts ?? '');
    deadlineOptions(Number(s.deadlineSeconds));
    if (s.deadlineSeconds) fields.deadlineSeconds.value = String(s.deadlineSeconds);
    const warning = $('#paused-warning', panel);
    warning.hidden = !s.pausedReason;
    warning.textContent = s.pausedReason ? t('paused', { reason: s.pausedReason }) : '';
    $('#log-chat', panel).textContent = s.logChatId ? t('logChat', { id: s.logChatId }) : t('noLogChat');

    const rows = (data && Array.isArray(data.audit)) ? data.audit : [];
    audit.tBodies[0].replaceChildren(...rows.map((a) => {
      const name = settingName(a.setting);
      return el('tr', {},
        el('td', {}, String(a.userId)),
        el('td', {}, t(name)),
        el('td', {}, `${auditValue(name, a.oldValue)} → ${auditValue(name, a.newValue)}`),
        el('td', {}, recent(a.changedAt)));
    }));
    audit.hidden = rows.length === 0;
    auditEmpty.hidden = rows.length > 0;
  }

  async function load(chatId) {
    const mine = ++seq;
    current = chatId;
    fieldset.disabled = true;
    panel.classList.add('loading');
    try {
      const data = await api(`chats/${encodeURIComponent(chatId)}/settings`);
      if (mine === seq) {
        render(data);
        fieldset.disabled = false;
      }
    } catch (error) {
      if (mine === seq) report(error);
    } finally {
      if (mine === seq) panel.classList.remove('loading');
    }
  }

  // form-action 'none': the form never submits natively, the page sends it.
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (current === null) return;
    const chatId = current;
    clearError();
    clearFieldErrors(form);
    const body = {
      enabled: fields.enabled.checked,
      checkKind: fields.checkKind.value,
      attempts: Number.parseInt(fields.attempts.value, 10),
      deadlineSeconds: Number(fields.deadlineSeconds.value),
    };
    if (Number.isNaN(body.attempts)) body.attempts = null; // the server says what is wrong with it
    try {
      const data = await busy([$('button[type=submit]', form)], () =>
        api(`chats/${encodeURIComponent(chatId)}/settings`, { method: 'PUT', body }));
      if (chatId === current) render(data);
      toast(t('saved'));
    } catch (error) {
      report(error, form);
    }
  });

  return { load };
}
