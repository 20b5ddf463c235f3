// Webhook ingest at a constant arrival rate, as Telegram delivers: every request a new update_id, signed
// with the webhook secret. Used by the pipeline's staging stage and runnable against any deployment:
//   k6 run -e BASE_URL=https://bot.staging.example.com -e WEBHOOK_SECRET=... tests/Load/ingest.js
// Options: RATE (updates/s, default 500), DURATION (default 1m), CHATS (distinct chats, default 1000),
// P99_MS (default 20), ID_BASE (first update_id; default from the clock so reruns do not collide).
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';

const baseUrl = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const secret = __ENV.WEBHOOK_SECRET;
const rate = Number(__ENV.RATE || 500);
const chats = Number(__ENV.CHATS || 1000);
const idBase = Number(__ENV.ID_BASE || (Date.now() % 1e9) * 1000);

if (!secret) {
  throw new Error('WEBHOOK_SECRET is required');
}

/** @type {import('k6/options').Options} */
export const options = {
  discardResponseBodies: true,
  scenarios: {
    ingest: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration: __ENV.DURATION || '1m',
      preAllocatedVUs: Math.max(20, Math.ceil(rate / 20)),
      maxVUs: Math.max(200, rate),
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    http_req_duration: [`p(99)<${Number(__ENV.P99_MS || 20)}`],
    checks: ['rate>0.999'],
  },
};

export default function () {
  const id = idBase + exec.scenario.iterationInTest;
  const chat = 1 + (id % chats);
  const body = JSON.stringify({
    update_id: id,
    message: {
      message_id: id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chat, type: 'private', first_name: 'Load' },
      from: { id: chat, is_bot: false, first_name: 'Load' },
      text: `load ${id}`,
    },
  });
  const res = http.post(`${baseUrl}/telegram/webhook`, body, {
    headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': secret },
    tags: { name: 'webhook' },
  });
  check(res, { 'acknowledged (200)': (r) => r.status === 200 });
}
