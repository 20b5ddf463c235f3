// A 30-minute soak: the interactive mix (tests/Load/lib/updates.js) at a steady rate for SOAK_DURATION
// (default 30m), watching for what only time shows: latency creeping up, errors appearing, the inbox or
// outbox backlog growing without bound (sampled from the admin API every 10 s when ADMIN_TOKEN is set).
//   k6 run -e BASE_URL=... -e WEBHOOK_SECRET=... -e ADMIN_URL=... -e ADMIN_TOKEN=... tests/Load/soak.js
// Options: RATE (default 100), USERS (default 20000), SOAK_DURATION (default 30m), P99_MS (default 50),
// MAX_INBOX_PENDING / MAX_OUTBOX_PENDING (the largest backlog sampled; defaults 1000 / 60000).
// That the tables themselves stay bounded (handled updates, sent messages, join decisions purged after their
// retention) shows only after a day or more: run this for longer than the retention (SOAK_DURATION=52h with the
// defaults of 48 h) with tests/Load/table-sizes.sh sampling the row counts alongside, then check that each
// table's count is flat after the retention (tests/Load/table-sizes.sh check sizes.csv 49).
import exec from 'k6/execution';
import { interactive } from './lib/updates.js';
import { postUpdate, idBase, sampleBacklog as sample } from './lib/k6common.js';

const rate = Number(__ENV.RATE || 100);
const users = Number(__ENV.USERS || 20000);
const duration = __ENV.SOAK_DURATION || '30m';
const p99 = Number(__ENV.P99_MS || 50);

export const options = {
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration,
      preAllocatedVUs: Math.max(20, Math.ceil(rate / 10)), maxVUs: Math.max(200, rate * 2),
    },
    backlog: { executor: 'constant-vus', vus: 1, duration, exec: 'sampleBacklog' },
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    checks: ['rate>0.999'],
    'http_req_duration{name:webhook}': [`p(99)<${p99}`, `p(99.9)<${p99 * 4}`],
    inbox_pending: [`max<${Number(__ENV.MAX_INBOX_PENDING || 1000)}`],
    outbox_pending: [`max<${Number(__ENV.MAX_OUTBOX_PENDING || 60000)}`],
  },
};

export function sampleBacklog() {
  sample(10);
}

export default function () {
  const n = exec.scenario.iterationInTest;
  postUpdate(interactive(idBase + n, 100000 + (n * 7919) % users, ((n * 2654435761) % 1000) / 1000, -1001000000001), 'interactive');
}
