// The join queue of one chat: who waits, where their check stands, and approve / decline / ban.
import { api } from './net.js';
import { t, remaining } from './i18n.js';
import { el, $, $$, toast, report, clearError, confirmButton, busy } from './ui.js';

/** "4 min left", or "deadline passed". */
function deadlineText(deadline) {
  const left = remaining(deadline);
  return left ? t('timeLeft', { t: left }) : t('deadlinePassed');
}

function checkCell(request) {
  const parts = [];
  if (request.checkKind) {
    parts.push(el('span', { class: 'kind' }, t('kind.' + request.checkKind)));
    parts.push(el('span', { class: 'attempts' }, t('attemptsLeft', { n: Number(request.attemptsLeft) || 0 })));
  } else {
    parts.push(el('span', { class: 'kind muted' }, t('noCheck')));
  }
  if (request.held) parts.push(el('span', { class: 'badge held' }, t('held')));
  if (request.deadline) parts.push(el('span', { class: 'deadline', 'data-deadline': request.deadline }, deadlineText(request.deadline)));
  return el('td', { class: 'check' }, parts);
}

export function createQueue(panel) {
  const table = $('#queue', panel);
  const body = table.tBodies[0];
  const empty = $('#queue-empty', panel);
  let seq = 0;
  let current = null;

  const showEmpty = () => {
    const none = body.rows.length === 0;
    empty.hidden = !none;
    table.hidden = none;
  };

  async function act(chatId, request, action, row) {
    clearError();
    const buttons = $$('button', row);
    try {
      await busy(buttons, () => api(`chats/${encodeURIComponent(chatId)}/queue/${encodeURIComponent(request.id)}/${action}`, { method: 'POST' }));
      row.remove();
      showEmpty();
      toast(t('done.' + action));
    } catch (error) {
      if (error.status === 409 || error.status === 404) {
        // Someone (another admin, the check itself) decided first: show what is left.
        toast(t('alreadyDecided'));
        if (chatId === current) load(chatId);
      } else {
        report(error);
      }
    }
  }

  function row(chatId, request) {
    const tr = el('tr', { 'data-request-id': request.id });
    const who = el('td', { class: 'user' },
      el('span', { class: 'name' }, request.name || String(request.userId)),
      request.username ? el('span', { class: 'username' }, '@' + request.username) : null,
      el('span', { class: 'entry muted' }, t('entry.' + (request.entry === 'direct' ? 'direct' : 'request'))));
    const approve = el('button', { type: 'button', class: 'small', 'data-action': 'approve' }, t('approve'));
    const decline = el('button', { type: 'button', class: 'small secondary', 'data-action': 'decline' }, t('decline'));
    const ban = el('button', { type: 'button', class: 'small danger', 'data-action': 'ban' }, t('ban'));
    approve.addEventListener('click', () => act(chatId, request, 'approve', tr));
    decline.addEventListener('click', () => act(chatId, request, 'decline', tr));
    confirmButton(ban, t('banConfirm'), () => act(chatId, request, 'ban', tr));
    tr.append(who, checkCell(request), el('td', { class: 'actions' }, approve, decline, ban));
    return tr;
  }

  async function load(chatId) {
    const mine = ++seq;
    current = chatId;
    panel.classList.add('loading');
    try {
      const data = await api(`chats/${encodeURIComponent(chatId)}/queue`);
      if (mine !== seq) return;
      const requests = (data && Array.isArray(data.requests)) ? data.requests : [];
      body.replaceChildren(...requests.map((r) => row(chatId, r)));
      showEmpty();
    } catch (error) {
      if (mine === seq) report(error);
    } finally {
      if (mine === seq) panel.classList.remove('loading');
    }
  }

  // Keep the "time left" current while the page is open.
  setInterval(() => {
    for (const span of $$('[data-deadline]', body)) span.textContent = deadlineText(span.dataset.deadline);
  }, 20000);

  return { load };
}
