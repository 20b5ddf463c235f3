// The admin Mini App's entry point: reads the launch parameters, applies Telegram's theme, asks the API who is
// calling, then shows the chat picker and the tabs (or the refusal page). The panels live in their own modules.
import { readLaunch, initDataLanguage, configure, api } from './net.js';
import { setLanguage, translate, t } from './i18n.js';
import { el, $, $$, showError, describe, clearError } from './ui.js';
import { createOverview } from './overview.js';
import { createQueue } from './queue.js';
import { createSettings } from './settings.js';
import { createBroadcasts } from './broadcasts.js';
// Imported here too, though only overview.js uses it: every module is then fetched in one round after app.js.
import './charts.js';

/** Telegram Web, the one parent frame the app talks to (and the CSP's frame-ancestors). */
const TG_ORIGIN = 'https://web.telegram.org';

// ---- Telegram: events out (ready, expand) and in (theme changes) ----

/** Sends an event to the Telegram client: the native bridge, the Windows Phone one, or the Web client's parent frame. */
function postEvent(eventType, eventData = '') {
  try {
    if (window.TelegramWebviewProxy && typeof window.TelegramWebviewProxy.postEvent === 'function') {
      window.TelegramWebviewProxy.postEvent(eventType, eventData);
    } else if (window.external && typeof window.external.notify === 'function') {
      window.external.notify(JSON.stringify({ eventType, eventData: eventData || {} }));
    } else if (window.parent !== window) {
      window.parent.postMessage(JSON.stringify({ eventType, eventData: eventData || {} }), TG_ORIGIN);
    }
  } catch {
    // Not inside Telegram (or an old client): nothing to tell.
  }
}

/** themeParams (bg_color, text_color…) as CSS variables (--tg-bg-color…); only colours are taken. */
function applyTheme(params) {
  const style = document.documentElement.style;
  for (const [key, value] of Object.entries(params || {})) {
    if (/^[a-z_]+$/.test(key) && typeof value === 'string' && /^#[0-9a-f]{3,8}$/i.test(value)) {
      style.setProperty('--tg-' + key.replace(/_/g, '-'), value);
    }
  }
  // A dark background gets dark form controls and scrollbars too.
  const bg = /^#([0-9a-f]{6})$/i.exec((params && params.bg_color) || '');
  if (bg) {
    const n = parseInt(bg[1], 16);
    const luminance = (0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
    document.documentElement.dataset.scheme = luminance < 0.5 ? 'dark' : 'light';
  }
}

function receiveEvent(eventType, eventData) {
  if (eventType === 'theme_changed' && eventData && eventData.theme_params) applyTheme(eventData.theme_params);
}

// The native clients call Telegram.WebView.receiveEvent; the Web client posts messages from its frame.
window.Telegram = window.Telegram || {};
if (!window.Telegram.WebView) window.Telegram.WebView = { receiveEvent };
window.addEventListener('message', (event) => {
  if (event.origin !== TG_ORIGIN || event.source !== window.parent || typeof event.data !== 'string') return;
  try {
    const message = JSON.parse(event.data);
    receiveEvent(message.eventType, message.eventData);
  } catch {
    // Not one of Telegram's events.
  }
});

// ---- the refusal page ----

let refused = false;

/** Shows only the refusal: forbidden (not an admin) or unauthenticated (no or expired initData). */
function refuse(reason, expired = false) {
  refused = true;
  const page = $('#refusal');
  page.dataset.reason = reason;
  const key = expired ? 'refusal.expired' : `refusal.${reason}`;
  $('h1', page).textContent = t(key + '.title');
  $('p', page).textContent = t(key);
  page.hidden = false;
  for (const id of ['#loading', '#main', '#error', '#toast']) $(id).hidden = true;
  if (broadcasts) broadcasts.setVisible(false);
}

// ---- tabs and the chat picker ----

const CHAT_TABS = ['overview', 'queue', 'settings'];
const CHAT_KEY = 'bot.miniapp.chat';
let controllers = {};
let broadcasts = null;
let chatId = null;
let active = null;
/** Which chat each chat tab last loaded, so a tab is fetched again only when the chat changed (or on refresh). */
const loadedFor = {};

function ensureLoaded(tab, force = false) {
  if (!CHAT_TABS.includes(tab) || chatId === null) return;
  if (force || loadedFor[tab] !== chatId) {
    loadedFor[tab] = chatId;
    controllers[tab].load(chatId);
  }
}

function activate(tab) {
  active = tab;
  for (const button of $$('[data-tab]')) {
    const selected = button.dataset.tab === tab;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
  }
  for (const panel of $$('[data-panel]')) panel.hidden = panel.dataset.panel !== tab;
  if (broadcasts) broadcasts.setVisible(tab === 'broadcasts');
  ensureLoaded(tab);
}

function setUpChats(chats) {
  const select = $('#chat-select');
  select.replaceChildren(...chats.map((c) => el('option', { value: c.id }, c.title || String(c.id))));
  $('#chat-picker').hidden = chats.length === 0;
  $('#no-chats').hidden = chats.length > 0;
  if (chats.length === 0) return;
  let saved = null;
  try {
    saved = sessionStorage.getItem(CHAT_KEY);
  } catch {
    // No storage: start with the first chat.
  }
  chatId = chats.some((c) => String(c.id) === saved) ? saved : String(chats[0].id);
  select.value = chatId;
  select.addEventListener('change', () => {
    chatId = select.value;
    try {
      sessionStorage.setItem(CHAT_KEY, chatId);
    } catch {
      // Not remembered across reloads; no harm.
    }
    clearError();
    ensureLoaded(active);
  });
}

function setUpTabs(me) {
  const hasChats = me.chats.length > 0;
  // Tabs the user cannot use are not in the page at all.
  for (const tab of CHAT_TABS) {
    if (!hasChats) {
      $(`[data-tab="${tab}"]`).remove();
      $(`[data-panel="${tab}"]`).remove();
    }
  }
  if (!me.botAdmin) {
    $('[data-tab="broadcasts"]').remove();
    $('[data-panel="broadcasts"]').remove();
  }
  if (hasChats) {
    controllers = {
      overview: createOverview($('[data-panel="overview"]')),
      queue: createQueue($('[data-panel="queue"]')),
      settings: createSettings($('[data-panel="settings"]')),
    };
    for (const tab of ['overview', 'queue']) {
      $(`[data-refresh="${tab}"]`).addEventListener('click', () => {
        clearError();
        ensureLoaded(tab, true);
      });
    }
  }
  if (me.botAdmin) broadcasts = createBroadcasts($('[data-panel="broadcasts"]'));

  const tabs = $$('[data-tab]');
  for (const button of tabs) button.addEventListener('click', () => activate(button.dataset.tab));
  // Arrow keys move between tabs, as in any tab list.
  $('#tabs').addEventListener('keydown', (event) => {
    const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    const i = tabs.findIndex((b) => b.dataset.tab === active);
    if (!step || i < 0) return;
    const next = tabs[(i + step + tabs.length) % tabs.length];
    next.focus();
    activate(next.dataset.tab);
  });
  if (tabs.length) activate(hasChats ? 'overview' : 'broadcasts');
}

// ---- start ----

async function start() {
  $('#error').addEventListener('click', clearError);
  const launch = readLaunch();
  if (launch) {
    applyTheme(launch.themeParams);
    setLanguage(initDataLanguage(launch.initData));
  }
  translate();
  if (!launch) {
    refuse('unauthenticated');
    postEvent('web_app_ready');
    return;
  }

  // A 401, at the first call or a later one: the initData has expired (or was never valid) — reopening gives a new one.
  configure(launch.initData, () => refuse('unauthenticated', true));
  let me;
  try {
    me = await api('me');
  } catch (error) {
    if (error.status === 403) refuse('forbidden');
    else if (!refused) {
      $('#loading').hidden = true;
      $('#main').hidden = false;
      $('#tabs').hidden = true;
      $('#chat-picker').hidden = true;
      showError(describe(error));
      // The launch parameters are kept in sessionStorage, so a reload asks again with the same initData.
      const retry = el('button', { type: 'button', class: 'primary' }, t('retry'));
      retry.addEventListener('click', () => location.reload());
      $('#main').append(retry);
    }
    postEvent('web_app_ready');
    return;
  }
  me = { user: {}, chats: [], ...me };
  if (!Array.isArray(me.chats)) me.chats = [];
  me.botAdmin = me.botAdmin === true;
  setLanguage(me.user.language);
  translate();
  $('#user-name').textContent = me.user.firstName || '';
  setUpChats(me.chats);
  setUpTabs(me);
  $('#loading').hidden = true;
  $('#main').hidden = false;
  postEvent('web_app_ready');
  postEvent('web_app_expand');
}

start();
