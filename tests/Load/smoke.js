// The staging smoke: a few signed webhook requests per second for 30 s through the public ingress, with
// thresholds a real staging meets and an early stop when one fails. Well inside the ingress's limits (the chart's
// rateLimit: 100 requests/s and 100 connections per client address), so it fails only when staging does.
//   k6 run -e BASE_URL=https://bot.staging.example.com -e WEBHOOK_SECRET=... tests/Load/smoke.js
// What it sends (MIX):
//   inert (default)  edited messages in private chats: stored, deduplicated and handled, but no handler
//                    answers them, so staging's real Bot API receives nothing from the smoke.
//   interactive      the interactive mix (tests/Load/lib/updates.js: commands, callbacks, join requests), for
//                    a staging whose Telegram__ApiBaseUrl points at a fake Bot API.
// Besides the load, once per run: an update delivered twice is acknowledged both times (Telegram retries), and a
// request with a wrong secret is refused with 401.
// Options: RATE (updates/s, default 5), DURATION (default 30s), P95_MS (default 500), P99_MS (default 1500),
// SUMMARY_DIR (where handleSummary writes smoke-junit.xml and smoke-summary.json).
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { interactive } from './lib/updates.js';
import { summarize } from './lib/summary.js';

const baseUrl = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const secret = __ENV.WEBHOOK_SECRET;
const mix = __ENV.MIX || 'inert';
const rate = Number(__ENV.RATE || 5);
const duration = __ENV.DURATION || '30s';
const idBase = Number(__ENV.ID_BASE || (Date.now() % 1e9) * 1000);

if (!secret) {
  throw new Error('WEBHOOK_SECRET is required');
}
if (mix !== 'inert' && mix !== 'interactive') {
  throw new Error(`MIX must be inert or interactive, not ${mix}`);
}

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    smoke: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration,
      preAllocatedVUs: 2,
      maxVUs: 10,
      gracefulStop: '5s',
    },
    edges: {
      executor: 'shared-iterations',
      vus: 1,
      iterations: 1,
      exec: 'edges',
      startTime: '1s',
    },
  },
  thresholds: {
    http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '10s' }],
    'http_req_duration{name:webhook}': [
      { threshold: `p(95)<${Number(__ENV.P95_MS || 500)}`, abortOnFail: true, delayAbortEval: '10s' },
      `p(99)<${Number(__ENV.P99_MS || 1500)}`,
    ],
    checks: [{ threshold: 'rate>0.99', abortOnFail: true, delayAbortEval: '10s' }],
    'checks{edge:duplicate}': ['rate==1'],
    'checks{edge:wrong_secret}': ['rate==1'],
  },
};

const headers = (token) => ({ 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': token });

function post(update, token, tags) {
  return http.post(`${baseUrl}/telegram/webhook`, JSON.stringify(update), { headers: headers(token), tags });
}

function inert(id) {
  const chat = 1 + (id % 50);
  const date = Math.floor(Date.now() / 1000);
  return {
    update_id: id,
    edited_message: {
      message_id: id,
      date,
      edit_date: date,
      chat: { id: chat, type: 'private', first_name: 'Smoke' },
      from: { id: chat, is_bot: false, first_name: 'Smoke' },
      text: `smoke ${id}`,
    },
  };
}

function updateFor(n) {
  const id = idBase + n;
  if (mix === 'inert') return inert(id);
  const user = 100000 + ((n * 7919) % 500);
  return interactive(id, user, ((n * 2654435761) % 1000) / 1000, Number(__ENV.GATED_CHAT_ID || -1001000000001));
}

export default function () {
  const n = exec.scenario.iterationInTest;
  const res = post(updateFor(n), secret, { name: 'webhook' });
  check(res, { 'acknowledged (200)': (r) => r.status === 200 });
}

// Telegram retries a delivery it saw no answer for: the second copy is acknowledged too (and stored once). A
// request without the secret never reaches the inbox.
export function edges() {
  const update = inert(idBase + 10000000);
  const first = post(update, secret, { name: 'edge' });
  const again = post(update, secret, { name: 'edge' });
  check({ first, again }, { 'a repeated delivery is acknowledged twice': (r) => r.first.status === 200 && r.again.status === 200 }, { edge: 'duplicate' });
  // Expected here, so that it does not count in http_req_failed.
  const refused = http.post(`${baseUrl}/telegram/webhook`, JSON.stringify(inert(idBase + 10000001)), {
    headers: headers(`${secret}-wrong`),
    tags: { name: 'edge' },
    responseCallback: http.expectedStatuses(401),
  });
  check(refused, { 'a wrong secret is refused (401)': (r) => r.status === 401 }, { edge: 'wrong_secret' });
}

export function handleSummary(data) {
  return summarize(data, 'smoke');
}
