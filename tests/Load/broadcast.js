// A broadcast under load: SUBSCRIBERS synthetic users subscribe with /start (setup), then one broadcast is
// started through the admin API (POST /admin/broadcasts on the internal port, see docs/api.md) while
// interactive traffic keeps coming; the run follows the broadcast to its end. Thresholds: the broadcast
// finishes, reaches every subscriber at a sustained rate close to Telegram's 30 messages/s, and interactive
// updates are still acknowledged quickly meanwhile. The subscribers are synthetic, so the deployment's
// Telegram__ApiBaseUrl must be the fake Bot API (tests/FakeTelegram), as in staging's load stage.
//   k6 run -e BASE_URL=... -e WEBHOOK_SECRET=... -e ADMIN_URL=... -e ADMIN_TOKEN=... tests/Load/broadcast.js
// Options: SUBSCRIBERS (default 3000), FROM_CHAT_ID / MESSAGE_ID (the message copied; default
// -1001000000002 / 1), STATUS_CHAT_ID (optional), RATE (interactive updates/s meanwhile, default 20),
// MIN_SEND_RATE (messages/s, default 25), BROADCAST_TIMEOUT_S (default 900), P99_MS (default 50).
import http from 'k6/http';
import exec from 'k6/execution';
import { check, sleep, fail } from 'k6';
import { Trend, Rate, Counter } from 'k6/metrics';
import { command, interactive } from './lib/updates.js';
import { baseUrl, adminUrl, adminToken, adminHeaders, idBase, backlogScenario, postUpdate } from './lib/k6common.js';

export { sampleBacklog } from './lib/k6common.js';

const subscribers = Number(__ENV.SUBSCRIBERS || 3000);
const timeoutSeconds = Number(__ENV.BROADCAST_TIMEOUT_S || 900);
const firstUser = 200000;
const broadcastSeconds = new Trend('broadcast_seconds');
const broadcastRate = new Trend('broadcast_messages_per_second');
const broadcastCompleted = new Rate('broadcast_completed');
const broadcastFailed = new Counter('broadcast_failed_recipients');

if (!adminToken) {
  throw new Error('ADMIN_TOKEN is required (the broadcast is started through the admin API)');
}

export const options = {
  setupTimeout: '10m',
  scenarios: {
    broadcast: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: `${timeoutSeconds + 60}s`, exec: 'broadcast' },
    interactive: {
      executor: 'constant-arrival-rate', rate: Number(__ENV.RATE || 20), timeUnit: '1s',
      duration: `${Math.ceil(subscribers / 30) + 30}s`, preAllocatedVUs: 10, maxVUs: 100, exec: 'chatter',
    },
    backlog: backlogScenario(`${Math.ceil(subscribers / 30) + 30}s`),
  },
  thresholds: {
    broadcast_completed: ['rate==1'],
    broadcast_messages_per_second: [`min>=${Number(__ENV.MIN_SEND_RATE || 25)}`],
    broadcast_failed_recipients: ['count==0'],
    'http_req_duration{name:webhook}': [`p(99)<${Number(__ENV.P99_MS || 50)}`],
    'checks{check:acknowledged (200)}': ['rate>0.999'],
  },
};

/** Subscribes every synthetic user (/start), 200 at a time, and waits until the bot counts them active. */
export function setup() {
  const base = idBase + 50_000_000;
  for (let i = 0; i < subscribers; i += 200) {
    const batch = [];
    for (let j = i; j < Math.min(subscribers, i + 200); j++) {
      batch.push(['POST', `${baseUrl}/telegram/webhook`, JSON.stringify(command(base + j, firstUser + j, 'start')), {
        headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': __ENV.WEBHOOK_SECRET },
        tags: { name: 'subscribe' },
      }]);
    }
    const answers = http.batch(batch);
    if (answers.some((r) => r.status !== 200)) fail('a /start was not acknowledged');
  }
  for (let waited = 0; waited < 300; waited += 2) {
    const stats = http.get(`${adminUrl}/admin/stats`, adminHeaders()).json();
    if (stats.active >= subscribers) return { active: stats.active };
    sleep(2);
  }
  fail(`fewer than ${subscribers} active subscribers after 300 s`);
}

export function broadcast(data) {
  const body = {
    fromChatId: Number(__ENV.FROM_CHAT_ID || -1001000000002),
    messageId: Number(__ENV.MESSAGE_ID || 1),
    ...(__ENV.STATUS_CHAT_ID ? { statusChatId: Number(__ENV.STATUS_CHAT_ID) } : {}),
  };
  const started = Date.now();
  const res = http.post(`${adminUrl}/admin/broadcasts`, JSON.stringify(body), adminHeaders());
  if (!check(res, { 'broadcast accepted (202)': (r) => r.status === 202 })) {
    broadcastCompleted.add(false);
    return;
  }
  const id = res.json().id;
  let state;
  while ((Date.now() - started) / 1000 < timeoutSeconds) {
    sleep(5); // the admin API's rate limit is shared with the backlog sampler
    state = http.get(`${adminUrl}/admin/broadcasts/${id}`, adminHeaders()).json();
    if (state.state !== 'running') break;
  }
  const seconds = (Date.now() - started) / 1000;
  const done = state && state.state === 'done' && state.sent + state.blocked + state.failed >= data.active;
  broadcastCompleted.add(done);
  broadcastSeconds.add(seconds);
  if (state) {
    broadcastRate.add(state.sent / seconds);
    broadcastFailed.add(state.failed);
  }
}

export function chatter() {
  const n = exec.scenario.iterationInTest;
  postUpdate(interactive(idBase + n, 100000 + (n % 1000), ((n * 2654435761) % 1000) / 1000, -1001000000001), 'interactive');
}
