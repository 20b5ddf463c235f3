// What the k6 scenarios share: signed webhook posts and the inbox/outbox depth read from the admin API.
// Environment: BASE_URL (public, default http://127.0.0.1:8080), WEBHOOK_SECRET (required), ADMIN_URL
// (internal, default http://127.0.0.1:9090), ADMIN_TOKEN (optional: without it nothing is read from the admin API).
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Trend } from 'k6/metrics';

export const baseUrl = __ENV.BASE_URL || 'http://127.0.0.1:8080';
export const adminUrl = __ENV.ADMIN_URL || 'http://127.0.0.1:9090';
export const adminToken = __ENV.ADMIN_TOKEN || '';
const secret = __ENV.WEBHOOK_SECRET;
if (!secret) {
  throw new Error('WEBHOOK_SECRET is required');
}

/** First update_id of this run: from ID_BASE, else from the clock so that reruns never collide. */
export const idBase = Number(__ENV.ID_BASE || (Date.now() % 1e9));

export const inboxPending = new Trend('inbox_pending');
export const outboxPending = new Trend('outbox_pending');

/** Posts one update as Telegram does and checks that it was acknowledged. */
export function postUpdate(update, tag) {
  const res = http.post(`${baseUrl}/telegram/webhook`, JSON.stringify(update), {
    headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': secret },
    tags: { name: 'webhook', kind: tag },
  });
  check(res, { 'acknowledged (200)': (r) => r.status === 200 });
  return res;
}

export function adminHeaders() {
  return { headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, tags: { name: 'admin' } };
}

/**
 * One sample of the backlog from GET /admin/stats every `everySeconds` (the admin API allows 120 requests a
 * minute across all callers, so keep it slow). A scenario function: `exec: 'sampleBacklog'`.
 */
export function sampleBacklog(everySeconds = 5) {
  if (!adminToken) {
    sleep(everySeconds);
    return;
  }
  const res = http.get(`${adminUrl}/admin/stats`, adminHeaders());
  if (check(res, { 'admin stats (200)': (r) => r.status === 200 })) {
    const stats = res.json();
    inboxPending.add(stats.inboxPending);
    outboxPending.add(stats.outboxPending);
  }
  sleep(everySeconds);
}

/** The backlog sampler as a scenario: one VU for the whole run. */
export function backlogScenario(duration) {
  return { executor: 'constant-vus', vus: 1, duration, exec: 'sampleBacklog' };
}
