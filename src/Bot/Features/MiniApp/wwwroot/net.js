// How the page learns who opened it (Telegram's launch parameters) and talks to the bot's API.

const STORAGE_KEY = 'bot.miniapp.launch';

/**
 * The launch parameters: Telegram puts them in the fragment (#tgWebAppData=…&tgWebAppThemeParams=…). They are kept
 * in sessionStorage so that a reload, whose fragment may be gone, still finds them. initData is the fragment's value
 * decoded once, exactly as Telegram signed it: it is sent on as it is, never decoded further.
 */
export function readLaunch() {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
  const initData = hash.get('tgWebAppData');
  if (initData) {
    let themeParams = {};
    try {
      themeParams = JSON.parse(hash.get('tgWebAppThemeParams') || '{}') || {};
    } catch {
      // A malformed theme is no reason not to open: the defaults stand.
    }
    const launch = { initData, themeParams };
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(launch));
    } catch {
      // Storage may be disabled; the fragment still works for this load.
    }
    return launch;
  }
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    if (saved && typeof saved.initData === 'string' && saved.initData) {
      return { initData: saved.initData, themeParams: saved.themeParams || {} };
    }
  } catch {
    // Nothing usable saved.
  }
  return null;
}

/** The language_code of the user named in initData (unverified here; only to pick the language before /me answers). */
export function initDataLanguage(initData) {
  try {
    return JSON.parse(new URLSearchParams(initData).get('user') || '{}').language_code || '';
  } catch {
    return '';
  }
}

/** A failed call: the HTTP status (0 when the server could not be reached) and its RFC 7807 problem. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
    this.status = status;
    this.problem = problem || {};
  }
}

let authorization = '';
let onUnauthorized = () => {};

/** Sets the initData every call presents, and what to do when the server no longer accepts it (401). */
export function configure(initData, unauthorized) {
  authorization = 'tma ' + initData;
  onUnauthorized = unauthorized;
}

/**
 * Calls the API: path is relative to /app/api/ ("me", "chats/1/queue"). Resolves with the parsed JSON body (null if
 * none); rejects with an ApiError. A 401 also calls the unauthorized hook (the page then shows its refusal).
 */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Authorization: authorization, Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'same-origin', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(new URL('api/' + path, document.baseURI), init);
  } catch {
    throw new ApiError(0, null);
  }
  let data = null;
  if (/json/i.test(response.headers.get('Content-Type') || '')) {
    data = await response.json().catch(() => null);
  }
  if (response.ok) return data;
  if (response.status === 401) onUnauthorized();
  throw new ApiError(response.status, data);
}
