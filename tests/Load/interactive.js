// An interactive conversation mix at a constant arrival rate, as a community bot sees it: /help, /start,
// /lang, /stop, plain text, inline-button callbacks and chat join requests (tests/Load/lib/updates.js has the
// mix), each user's updates in order, from many users at once. Signed with the webhook secret. Thresholds on
// errors, p99 acknowledgement latency per kind, and the inbox and outbox backlog read from the admin API.
//   k6 run -e BASE_URL=https://bot.staging.example.com -e WEBHOOK_SECRET=... \
//          -e ADMIN_URL=http://127.0.0.1:9090 -e ADMIN_TOKEN=... tests/Load/interactive.js
// Options: RATE (updates/s, default 200), DURATION (default 5m), USERS (default 5000), GATED_CHAT_ID
// (default -1001000000001), P99_MS (default 50), MAX_INBOX_PENDING / MAX_OUTBOX_PENDING (p95 of the sampled
// backlog, defaults 2000 / 20000: the sender is bound by Telegram's 30 messages/s, so replies queue by design).
import exec from 'k6/execution';
import { interactive } from './lib/updates.js';
import { postUpdate, idBase, backlogScenario } from './lib/k6common.js';

export { sampleBacklog } from './lib/k6common.js';

const rate = Number(__ENV.RATE || 200);
const users = Number(__ENV.USERS || 5000);
const gated = Number(__ENV.GATED_CHAT_ID || -1001000000001);
const duration = __ENV.DURATION || '5m';
const p99 = Number(__ENV.P99_MS || 50);

export const options = {
  discardResponseBodies: false,
  scenarios: {
    conversations: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration,
      preAllocatedVUs: Math.max(20, Math.ceil(rate / 10)),
      maxVUs: Math.max(200, rate * 2),
    },
    backlog: backlogScenario(duration),
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    checks: ['rate>0.999'],
    'http_req_duration{name:webhook}': [`p(99)<${p99}`],
    'http_req_duration{kind:command}': [`p(99)<${p99}`],
    'http_req_duration{kind:callback_query}': [`p(99)<${p99}`],
    'http_req_duration{kind:chat_join_request}': [`p(99)<${p99}`],
    inbox_pending: [`p(95)<${Number(__ENV.MAX_INBOX_PENDING || 2000)}`],
    outbox_pending: [`p(95)<${Number(__ENV.MAX_OUTBOX_PENDING || 20000)}`],
  },
};

export default function () {
  const n = exec.scenario.iterationInTest;
  const id = idBase + n;
  const user = 100000 + (n * 7919) % users;
  const update = interactive(id, user, ((n * 2654435761) % 1000) / 1000, gated);
  const kind = update.callback_query ? 'callback_query' : update.chat_join_request ? 'chat_join_request'
    : update.message.text.startsWith('/') ? 'command' : 'text';
  postUpdate(update, kind);
}
