// The app's strings in English and Russian, and the formatters that follow the chosen language.
// A value is either a string with {placeholders} or, for counts, an object of plural forms (Intl.PluralRules).

const dict = {
  en: {
    title: 'Admin panel',
    loading: 'Loading…',
    chat: 'Chat',
    noChats: 'There are no chats for you to manage yet.',
    'tab.overview': 'Overview',
    'tab.queue': 'Queue',
    'tab.settings': 'Settings',
    'tab.broadcasts': 'Broadcasts',
    refresh: 'Refresh',
    'refusal.forbidden.title': 'No access',
    'refusal.forbidden': "This panel is for the bot's admins and the admins of its chats.",
    'refusal.unauthenticated.title': 'Open it from Telegram',
    'refusal.unauthenticated': 'Open this panel from the bot in Telegram (/admin).',
    'refusal.expired.title': 'Session expired',
    'refusal.expired': 'The session has expired. Close and reopen the panel from the bot (/admin).',
    retry: 'Try again',
    errorPrefix: 'Error: ',
    'err.network': 'the server cannot be reached, check the connection',
    'err.tooMany': 'too many requests, wait a moment',
    'err.http': 'the request failed (HTTP {status})',
    'err.required': 'Required',

    // Overview
    today: 'Today',
    week: 'Last 7 days',
    approved: 'Approved',
    declined: 'Declined',
    removed: 'Removed',
    pending: 'Pending',
    removedHint: 'Removed: joined directly and removed by the check.',
    flood: 'Flood warnings',
    floodToday: 'today',
    floodWeek: 'in 7 days',
    funnelTitle: 'Funnel, last {days} days',
    'step.requested': 'Requested',
    'step.checked': 'Took the check',
    'step.passed': 'Passed',
    'step.retained': 'Still in the chat',
    daysTitle: 'Last 14 days',
    'series.requested': 'Requested',
    'series.approved': 'Approved',
    'series.declined': 'Declined',
    raidsTitle: 'Raids',
    noRaids: 'No raids detected.',
    ongoing: 'ongoing',
    joins: { one: '{n} join', other: '{n} joins' },

    // Queue
    queueTitle: 'Waiting to join',
    colUser: 'User',
    colCheck: 'Check',
    queueEmpty: 'Nobody is waiting.',
    'entry.request': 'join request',
    'entry.direct': 'joined directly',
    noCheck: 'no check yet',
    attemptsLeft: { one: '{n} attempt left', other: '{n} attempts left' },
    held: 'held for a review',
    timeLeft: '{t} left',
    deadlinePassed: 'deadline passed',
    approve: 'Approve',
    decline: 'Decline',
    ban: 'Ban',
    banConfirm: 'Tap again to ban',
    'done.approve': 'Approved',
    'done.decline': 'Declined',
    'done.ban': 'Banned',
    alreadyDecided: 'Already decided',

    // Settings
    'kind.arithmetic': 'Arithmetic',
    'kind.emoji': 'Emoji',
    'kind.questions': 'Questions',
    enabled: 'Check new members',
    checkKind: 'Check',
    attempts: 'Attempts',
    deadlineSeconds: 'Time to answer',
    save: 'Save',
    saved: 'Saved',
    paused: 'The check is paused: {reason}',
    logChat: 'Log chat: {id}',
    noLogChat: 'No log chat',
    auditTitle: 'Recent changes',
    colWho: 'Who',
    colSetting: 'Setting',
    colChange: 'Change',
    colWhen: 'When',
    noAudit: 'No changes yet.',

    // Broadcasts
    newBroadcast: 'New broadcast',
    text: 'Message',
    textPlaceholder: 'The message to send (up to 4096 characters)',
    audience: 'Audience',
    languagesHint: 'None checked: every language',
    activeWithinDays: 'Active within, days',
    activeWithinDaysPlaceholder: 'any time',
    member: 'Only members of the gated chats',
    recipients: 'Recipients',
    when: 'When',
    'when.now': 'Now',
    'when.draft': 'Draft',
    'when.later': 'Later',
    scheduledAt: 'Send at',
    create: 'Create',
    'created.now': 'Broadcast started',
    'created.draft': 'Draft saved',
    'created.later': 'Broadcast scheduled',
    broadcastsTitle: 'Broadcasts',
    noBroadcasts: 'No broadcasts yet.',
    'state.draft': 'Draft',
    'state.scheduled': 'Scheduled',
    'state.running': 'Preparing',
    'state.sending': 'Sending',
    'state.paused': 'Paused',
    'state.done': 'Done',
    'state.cancelled': 'Cancelled',
    'state.skipped': 'Skipped',
    createdAt: 'Created',
    scheduledFor: 'Scheduled for',
    startedAt: 'Started',
    finishedAt: 'Finished',
    sent: 'Sent',
    failed: 'Failed',
    blocked: 'Blocked',
    expanded: 'Prepared',
    allLanguages: 'every language',
    activeDays: { one: 'active within {n} day', other: 'active within {n} days' },
    membersOnly: 'members only',
    'op.send': 'Send',
    'op.preview': 'Preview',
    'op.cancel': 'Cancel',
    'op.pause': 'Pause',
    'op.resume': 'Resume',
    'op.edit': 'Edit',
    'op.withdraw': 'Withdraw',
    'confirm.cancel': 'Tap again to cancel',
    'confirm.withdraw': 'Tap again to withdraw',
    'opDone.send': 'Sending',
    'opDone.preview': 'Preview sent to your chat with the bot',
    'opDone.cancel': 'Cancelled',
    'opDone.pause': 'Paused',
    'opDone.resume': 'Resumed',
    'opDone.edit': 'Edited',
    'opDone.withdraw': 'Withdrawing',
    editPlaceholder: 'The new text of the sent messages',
    editSave: 'Save text',
    editClose: 'Close',
    jobProgress: '{job} ({state}): {done} done, {failed} failed',
    'jobState.running': 'in progress',
    'jobState.done': 'finished',
  },
  ru: {
    title: 'Админ-панель',
    loading: 'Загрузка…',
    chat: 'Чат',
    noChats: 'Пока нет чатов, которыми вы управляете.',
    'tab.overview': 'Обзор',
    'tab.queue': 'Очередь',
    'tab.settings': 'Настройки',
    'tab.broadcasts': 'Рассылки',
    refresh: 'Обновить',
    'refusal.forbidden.title': 'Нет доступа',
    'refusal.forbidden': 'Эта панель для администраторов бота и администраторов его чатов.',
    'refusal.unauthenticated.title': 'Откройте из Telegram',
    'refusal.unauthenticated': 'Откройте эту панель из бота в Telegram (/admin).',
    'refusal.expired.title': 'Сессия истекла',
    'refusal.expired': 'Сессия истекла. Закройте панель и снова откройте её из бота (/admin).',
    retry: 'Повторить',
    errorPrefix: 'Ошибка: ',
    'err.network': 'сервер недоступен, проверьте соединение',
    'err.tooMany': 'слишком много запросов, подождите немного',
    'err.http': 'запрос не выполнен (HTTP {status})',
    'err.required': 'Обязательное поле',

    today: 'Сегодня',
    week: 'За 7 дней',
    approved: 'Приняты',
    declined: 'Отклонены',
    removed: 'Удалены',
    pending: 'Ожидают',
    removedHint: 'Удалены: вошли напрямую и удалены проверкой.',
    flood: 'Предупреждения о флуде',
    floodToday: 'сегодня',
    floodWeek: 'за 7 дней',
    funnelTitle: 'Воронка за {days} дн.',
    'step.requested': 'Заявки',
    'step.checked': 'Начали проверку',
    'step.passed': 'Прошли',
    'step.retained': 'Остались в чате',
    daysTitle: 'Последние 14 дней',
    'series.requested': 'Заявки',
    'series.approved': 'Приняты',
    'series.declined': 'Отклонены',
    raidsTitle: 'Рейды',
    noRaids: 'Рейдов не было.',
    ongoing: 'продолжается',
    joins: { one: '{n} вход', few: '{n} входа', many: '{n} входов', other: '{n} входа' },

    queueTitle: 'Ждут вступления',
    colUser: 'Пользователь',
    colCheck: 'Проверка',
    queueEmpty: 'Никто не ждёт.',
    'entry.request': 'заявка',
    'entry.direct': 'вошёл напрямую',
    noCheck: 'проверки ещё нет',
    attemptsLeft: { one: 'осталась {n} попытка', few: 'осталось {n} попытки', many: 'осталось {n} попыток', other: 'осталось {n} попытки' },
    held: 'ждёт решения администратора',
    timeLeft: 'осталось {t}',
    deadlinePassed: 'время вышло',
    approve: 'Принять',
    decline: 'Отклонить',
    ban: 'Забанить',
    banConfirm: 'Нажмите ещё раз для бана',
    'done.approve': 'Принят',
    'done.decline': 'Отклонён',
    'done.ban': 'Забанен',
    alreadyDecided: 'Уже решено',

    'kind.arithmetic': 'Арифметика',
    'kind.emoji': 'Эмодзи',
    'kind.questions': 'Вопросы',
    enabled: 'Проверять новых участников',
    checkKind: 'Проверка',
    attempts: 'Попытки',
    deadlineSeconds: 'Время на ответ',
    save: 'Сохранить',
    saved: 'Сохранено',
    paused: 'Проверка приостановлена: {reason}',
    logChat: 'Чат журнала: {id}',
    noLogChat: 'Чата журнала нет',
    auditTitle: 'Последние изменения',
    colWho: 'Кто',
    colSetting: 'Настройка',
    colChange: 'Изменение',
    colWhen: 'Когда',
    noAudit: 'Изменений пока нет.',

    newBroadcast: 'Новая рассылка',
    text: 'Сообщение',
    textPlaceholder: 'Текст рассылки (до 4096 символов)',
    audience: 'Получатели',
    languagesHint: 'Ничего не отмечено: все языки',
    activeWithinDays: 'Активны за последние, дней',
    activeWithinDaysPlaceholder: 'когда угодно',
    member: 'Только участники защищённых чатов',
    recipients: 'Получателей',
    when: 'Когда',
    'when.now': 'Сейчас',
    'when.draft': 'Черновик',
    'when.later': 'Позже',
    scheduledAt: 'Отправить в',
    create: 'Создать',
    'created.now': 'Рассылка запущена',
    'created.draft': 'Черновик сохранён',
    'created.later': 'Рассылка запланирована',
    broadcastsTitle: 'Рассылки',
    noBroadcasts: 'Рассылок пока нет.',
    'state.draft': 'Черновик',
    'state.scheduled': 'Запланирована',
    'state.running': 'Подготовка',
    'state.sending': 'Отправляется',
    'state.paused': 'На паузе',
    'state.done': 'Завершена',
    'state.cancelled': 'Отменена',
    'state.skipped': 'Пропущена',
    createdAt: 'Создана',
    scheduledFor: 'Запланирована на',
    startedAt: 'Начата',
    finishedAt: 'Завершена',
    sent: 'Доставлено',
    failed: 'Ошибки',
    blocked: 'Заблокировали',
    expanded: 'Подготовлено',
    allLanguages: 'все языки',
    activeDays: { one: 'активны за {n} день', few: 'активны за {n} дня', many: 'активны за {n} дней', other: 'активны за {n} дня' },
    membersOnly: 'только участники',
    'op.send': 'Отправить',
    'op.preview': 'Предпросмотр',
    'op.cancel': 'Отменить',
    'op.pause': 'Пауза',
    'op.resume': 'Продолжить',
    'op.edit': 'Изменить',
    'op.withdraw': 'Отозвать',
    'confirm.cancel': 'Нажмите ещё раз для отмены',
    'confirm.withdraw': 'Нажмите ещё раз, чтобы отозвать',
    'opDone.send': 'Отправляется',
    'opDone.preview': 'Предпросмотр отправлен в чат с ботом',
    'opDone.cancel': 'Отменена',
    'opDone.pause': 'На паузе',
    'opDone.resume': 'Продолжена',
    'opDone.edit': 'Изменена',
    'opDone.withdraw': 'Отзывается',
    editPlaceholder: 'Новый текст отправленных сообщений',
    editSave: 'Сохранить текст',
    editClose: 'Закрыть',
    jobProgress: '{job} ({state}): выполнено {done}, ошибок {failed}',
    'jobState.running': 'идёт',
    'jobState.done': 'завершено',
  },
};

let lang = 'en';
let plurals = new Intl.PluralRules('en');

/** "en" or "ru" from a language tag ("ru", "ru-RU"); anything else is English. */
export function pickLanguage(tag) {
  return typeof tag === 'string' && tag.toLowerCase().split(/[-_]/)[0] === 'ru' ? 'ru' : 'en';
}

export function setLanguage(tag) {
  lang = pickLanguage(tag);
  plurals = new Intl.PluralRules(lang);
  document.documentElement.lang = lang;
}

/** The string for key, with {name} placeholders filled from vars; a plural entry picks its form by vars.n. */
export function t(key, vars = {}) {
  let s = dict[lang][key] ?? dict.en[key] ?? key;
  if (typeof s === 'object') s = s[plurals.select(vars.n ?? 0)] ?? s.other;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Fills every [data-i18n] element's text (and [data-i18n-placeholder]'s placeholder) under root. */
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  document.title = t('title');
}

const formats = new Map();
function format(kind, options) {
  const key = lang + kind;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(lang, options));
  return formats.get(key);
}

function toDate(value) {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A moment in the user's local time ("3 Dec 2026, 14:05"). */
export function dateTime(value) {
  const d = toDate(value);
  return d ? format('dt', { dateStyle: 'medium', timeStyle: 'short' }).format(d) : '';
}

/** A recent moment, without the year ("Dec 7, 06:14"): the audit and the raids. */
export function recent(value) {
  const d = toDate(value);
  return d ? format('recent', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(d) : '';
}

/** A calendar day "2026-12-01" as a short label ("1 Dec" / "1 дек."), read as the date it names. */
export function shortDay(day) {
  const d = toDate(day + 'T00:00:00Z');
  return d ? format('day', { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(d) : String(day);
}

/** A count of a unit ("5 minutes"), falling back to plain digits where Intl lacks units. */
function unit(n, name, display) {
  try {
    return new Intl.NumberFormat(lang, { style: 'unit', unit: name, unitDisplay: display }).format(n);
  } catch {
    return String(n) + ' ' + name.charAt(0);
  }
}

/** A duration in seconds as minutes or hours ("30 minutes", "4 hours"). */
export function duration(seconds, display = 'long') {
  if (seconds % 3600 === 0) return unit(seconds / 3600, 'hour', display);
  if (seconds % 60 === 0) return unit(seconds / 60, 'minute', display);
  return unit(seconds, 'second', display);
}

/** The time from now to a deadline, rounded up to minutes ("4 h 5 min"), or null when it has passed. */
export function remaining(deadline, now = Date.now()) {
  const d = toDate(deadline);
  if (!d) return null;
  const ms = d.getTime() - now;
  if (ms <= 0) return null;
  const minutes = Math.ceil(ms / 60000);
  if (minutes < 60) return unit(minutes, 'minute', 'short');
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return unit(h, 'hour', 'short') + (m ? ' ' + unit(m, 'minute', 'short') : '');
}
