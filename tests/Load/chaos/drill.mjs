// The chaos drill (started by run.sh): two bot replicas and the fake Bot API as processes against one
// PostgreSQL cluster; UPDATES updates posted at RATE per second, split across both replicas and retried as
// Telegram retries; the leader SIGKILLed and restarted at 30 % of the load, PostgreSQL restarted at 60 %. Then
// counts what was posted, stored, handled, handled twice, sent and sent twice, prints a table and ends with
// "N passed, N failed".
import http from 'node:http';
import fs from 'node:fs';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';

const env = process.env;
const updates = Number(env.UPDATES || 100000);
const rate = Number(env.RATE || 200);
const chats = Number(env.CHATS || Math.max(100, Math.floor(updates / 10)));
const sendRate = Number(env.SEND_RATE || 500);
const maxInFlight = Number(env.MAX_IN_FLIGHT || 32);
const work = env.WORK;
const pgDir = env.PG_DIR;
const pgPort = env.PG_PORT;
const botBinary = env.BOT_BINARY;
const fakeDll = env.FAKE_DLL;
const ports = env.PORTS.split(' ').map(Number); // fake, A public, A internal, B public, B internal
const secret = 'chaos-drill-webhook-secret-0123456789';
const token = '123456789:chaos-drill-token-not-real-xxxxxxxxxxx';
const idBase = 500_000_000;
const chatBase = 1_000_000;

const run = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text) => console.log(`${new Date().toISOString().slice(11, 23)} ${text}`);
const psql = async (sql) => (await run('scripts/pg.sh', ['psql', pgDir, '-Atc', sql])).stdout.trim();

// ---- processes ----
const expectedExit = new Set();
const crashes = [];
// The children still running, for run.sh to end if this script dies first (never a pid that has exited: it
// could belong to someone else by then).
const live = new Set();
const writePids = () => fs.writeFileSync(`${work}/pids`, [...live].map((pid) => `${pid}\n`).join(''));
function start(name, command, args, extraEnv) {
  const out = fs.openSync(`${work}/${name}.log`, 'a');
  const child = spawn(command, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', out, out] });
  live.add(child.pid);
  writePids();
  child.on('exit', (code, signal) => {
    live.delete(child.pid);
    writePids();
    if (!expectedExit.has(child.pid)) {
      crashes.push(`${name} (pid ${child.pid}) exited with ${code ?? signal}`);
      log(`UNEXPECTED EXIT: ${name} ${code ?? signal}`);
    }
  });
  return child;
}

async function waitHttp(url, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const status = await new Promise((resolve, reject) => {
        http.get(url, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
      });
      if (status === 200) return;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  throw new Error(`${url} not ready in ${timeoutMs} ms`);
}

function json(method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'content-type': 'application/json' } }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve(text ? JSON.parse(text) : null);
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const fakeUrl = `http://127.0.0.1:${ports[0]}`;
const bots = [
  { name: 'bot-a', public: ports[1], internal: ports[2] },
  { name: 'bot-b', public: ports[3], internal: ports[4] },
];
const botEnv = (bot) => ({
  Database__ConnectionString: env.DB,
  Telegram__BotToken: token,
  Telegram__WebhookSecret: secret,
  Telegram__ApiBaseUrl: fakeUrl,
  Hosting__BindAddress: '127.0.0.1',
  Hosting__PublicPort: String(bot.public),
  Hosting__InternalPort: String(bot.internal),
  DOTNET_ENVIRONMENT: 'Production',
  Secrets__Directory: '/nonexistent',
  Config__Directory: '/nonexistent',
  Shutdown__DrainDelaySeconds: '0',
  FeatureFlags__FloodControl: 'false',
  Sender__GlobalPerSecond: String(sendRate),
  Sender__MaxInFlight: String(maxInFlight),
  Processing__LeaseSeconds: '5',
  Processing__PollIntervalSeconds: '0.2',
  Coordination__RetrySeconds: '0.5',
  // Warnings and errors only (a 100,000-update run would otherwise write gigabytes), and who leads.
  Logging__LogLevel__Default: 'Warning',
  'Logging__LogLevel__Bot.Coordination': 'Information',
});
async function startBot(bot) {
  bot.process = start(bot.name, botBinary, [], botEnv(bot));
  await waitHttp(`http://127.0.0.1:${bot.internal}/readyz`);
}
// A replica not started yet has no log and does not lead (the first may take its lock a moment after it is ready).
const leader = () => bots.find((b) => {
  if (!b.process) return false;
  const text = fs.readFileSync(`${work}/${b.name}.log`, 'utf8');
  const lead = text.lastIndexOf('This replica leads');
  // The log is appended across restarts: the newest incarnation's lines come after its last start.
  return lead >= 0 && lead > text.lastIndexOf('\u0000restart\u0000');
});

const stopAll = async () => {
  const children = [fake, ...bots.map((b) => b.process)].filter((c) => c && c.exitCode === null && c.signalCode === null);
  for (const child of children) { expectedExit.add(child.pid); child.kill('SIGTERM'); }
  await Promise.all(children.map((c) => new Promise((resolve) => {
    const timer = setTimeout(() => { c.kill('SIGKILL'); resolve(); }, 15000);
    c.on('exit', () => { clearTimeout(timer); resolve(); });
  })));
};

// ---- start ----
const fake = start('fake', 'dotnet', [fakeDll, '--port', String(ports[0]), '--quiet',
  '--max-recorded-calls', String(updates * 2 + 10000)], {});
await waitHttp(`${fakeUrl}/_fake/stats`);
// Telegram's limits, with the overall one raised to what the bot is told to send: still enforced, so a send
// over any limit shows up as a 429 and a violation.
await json('POST', `${fakeUrl}/_fake/limits`, { global: { count: sendRate, window_ms: 1000 } });
await startBot(bots[0]);
for (let i = 0; i < 100 && !leader(); i++) await sleep(100);
await startBot(bots[1]);
log(`fake Bot API, ${bots.map((b) => b.name).join(' and ')} ready; leader ${leader()?.name ?? 'none yet'}`);

// ---- poster ----
const agents = bots.map(() => new http.Agent({ keepAlive: true, maxSockets: 128 }));
const acknowledged = new Set();
let attempts = 0;
let retries = 0;
const failures = {};
function post(botIndex, n) {
  const id = idBase + n;
  const chat = chatBase + (n % chats);
  const body = JSON.stringify({
    update_id: id,
    message: {
      message_id: n, date: Math.floor(Date.now() / 1000),
      chat: { id: chat, type: 'private', first_name: 'Chaos' },
      from: { id: chat, is_bot: false, first_name: 'Chaos', language_code: 'en' },
      text: n % 2 === 0 ? '/help' : `plain message ${n}`,
      ...(n % 2 === 0 ? { entities: [{ type: 'bot_command', offset: 0, length: 5 }] } : {}),
    },
  });
  return new Promise((resolve) => {
    attempts++;
    const req = http.request({
      host: '127.0.0.1', port: bots[botIndex].public, path: '/telegram/webhook', method: 'POST', agent: agents[botIndex],
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret, 'content-length': Buffer.byteLength(body) },
      timeout: 15000,
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(e.code || e.message));
    req.end(body);
  });
}
/** One update until acknowledged, as Telegram delivers: retried with backoff, here to either replica. */
async function deliver(n) {
  for (let attempt = 0; ; attempt++) {
    const status = await post((n + attempt) % 2, n);
    if (status === 200) { acknowledged.add(n); return; }
    failures[status] = (failures[status] || 0) + 1;
    retries++;
    if (attempt > 500) throw new Error(`update ${n} not acknowledged after ${attempt} attempts`);
    await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
  }
}

const events = [];
async function killLeader() {
  const victim = leader() ?? bots[0];
  log(`SIGKILL ${victim.name} (the leader) at ${acknowledged.size} acknowledged`);
  expectedExit.add(victim.process.pid);
  victim.process.kill('SIGKILL');
  await new Promise((resolve) => victim.process.once('exit', resolve));
  fs.appendFileSync(`${work}/${victim.name}.log`, '\u0000restart\u0000\n');
  await sleep(2000);
  await startBot(victim);
  log(`${victim.name} restarted`);
  events.push([1, `SIGKILL ${victim.name} (the leader) at 30 %, restarted after 2 s`]);
}
async function restartPostgres() {
  log(`PostgreSQL restart at ${acknowledged.size} acknowledged`);
  await run('scripts/pg.sh', ['stop', pgDir]);
  await run('scripts/pg.sh', ['start', pgDir, pgPort]);
  log('PostgreSQL back');
  events.push([2, 'PostgreSQL stopped (fast) and started again at 60 %']);
}

const started = Date.now();
const pending = new Set();
const chaos = [];
let killed = false;
let restarted = false;
for (let n = 1; n <= updates; n++) {
  // Steady arrival: update n is due at n / rate seconds, whatever the answers do.
  const due = started + (n * 1000) / rate;
  const wait = due - Date.now();
  if (wait > 0) await sleep(wait);
  const p = deliver(n).finally(() => pending.delete(p));
  pending.add(p);
  if (!killed && n >= updates * 0.3) { killed = true; chaos.push(killLeader()); }
  if (!restarted && n >= updates * 0.6) { restarted = true; chaos.push(restartPostgres()); }
  if (n % Math.max(1, Math.floor(updates / 10)) === 0) log(`posted ${n}, acknowledged ${acknowledged.size}, in flight ${pending.size}`);
}
await Promise.all(pending);
await Promise.all(chaos);
const postSeconds = (Date.now() - started) / 1000;
log(`all ${acknowledged.size} acknowledged in ${postSeconds.toFixed(1)} s (${attempts} requests, ${retries} retried)`);

// ---- drain: every update handled, every reply settled ----
const drainDeadline = Date.now() + Math.max(180000, (updates / sendRate) * 3000);
let counts;
while (true) {
  counts = (await psql(`SELECT (SELECT count(*) FROM inbox WHERE state = 'done') || ' ' ||
    (SELECT count(*) FROM inbox WHERE state IN ('pending', 'processing')) || ' ' ||
    (SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending'))`)).split(' ').map(Number);
  if (counts[1] === 0 && counts[2] === 0 && counts[0] > 0) break;
  if (Date.now() > drainDeadline) { log(`drain timed out: done ${counts[0]}, unfinished ${counts[1]}, unsent ${counts[2]}`); break; }
  await sleep(500);
}
const drainSeconds = (Date.now() - started) / 1000 - postSeconds;

// ---- count ----
const range = `update_id > ${idBase} AND update_id <= ${idBase + updates}`;
const q = async (sql) => Number(await psql(sql));
const stored = await q(`SELECT count(*) FROM inbox WHERE ${range}`);
const handled = await q(`SELECT count(*) FROM inbox WHERE ${range} AND state = 'done'`);
const dead = await q(`SELECT count(*) FROM inbox WHERE ${range} AND state = 'dead'`);
const outboxRows = await q(`SELECT count(*) FROM outbox WHERE source_update_id > ${idBase}`);
const repliedUpdates = await q(`SELECT count(DISTINCT source_update_id) FROM outbox WHERE source_update_id > ${idBase}`);
const handledTwice = await q(`SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) n FROM outbox WHERE source_update_id > ${idBase} GROUP BY source_update_id HAVING count(*) > 1) t`);
const outboxUnsent = await q(`SELECT count(*) FROM outbox WHERE state <> 'sent'`);
const stats = await json('GET', `${fakeUrl}/_fake/stats`);
const calls = await json('GET', `${fakeUrl}/_fake/calls?method=sendMessage`);
const delivered = calls.filter((c) => c.delivered);
const replyKeys = new Map();
for (const c of delivered) {
  const key = `${c.chat_id}/${c.body?.reply_parameters?.message_id}`;
  replyKeys.set(key, (replyKeys.get(key) || 0) + 1);
}
let expectedKeys = 0;
for (let n = 1; n <= updates; n++) if (replyKeys.has(`${chatBase + (n % chats)}/${n}`)) expectedKeys++;
const duplicateReplies = delivered.length - replyKeys.size;
const disruptions = events.length;
const bound = maxInFlight * disruptions;
const alive = bots.filter((b) => b.process.exitCode === null && b.process.signalCode === null).length;

await stopAll();

const rows = [
  ['updates posted (acknowledged 200)', acknowledged.size, `= ${updates}`, acknowledged.size === updates],
  ['webhook requests (incl. retries)', attempts, `retries: ${JSON.stringify(failures)}`, null],
  ['stored (inbox rows)', stored, `= ${updates}`, stored === updates],
  ['lost (acknowledged, not stored)', updates - stored, '= 0', stored === updates],
  ['handled (inbox done)', handled, `= ${updates}`, handled === updates],
  ['dead-lettered', dead, '= 0', dead === 0],
  ['outbox rows / updates with a reply', `${outboxRows} / ${repliedUpdates}`, `= ${updates} / ${updates}`, outboxRows === updates && repliedUpdates === updates],
  ['handled twice (extra outbox rows)', handledTwice, '= 0', handledTwice === 0],
  ['outbox rows not sent', outboxUnsent, '= 0', outboxUnsent === 0],
  ['replies delivered at the fake', delivered.length, `>= ${updates}`, delivered.length >= updates],
  ['updates with their reply delivered', expectedKeys, `= ${updates}`, expectedKeys === updates],
  ['duplicate replies', duplicateReplies, `<= ${bound} (${maxInFlight} in flight x ${disruptions} disruptions)`, duplicateReplies >= 0 && duplicateReplies <= bound],
  ['429s / rate-limit violations at the fake', `${stats.too_many_requests} / ${stats.rate_limit_violations}`, 'violations = 0', stats.rate_limit_violations === 0],
  ['max sends in any 1 s at the fake', stats.max_global_rate_per_second, `<= ${sendRate}`, stats.max_global_rate_per_second <= sendRate],
  ['unexpected process exits', crashes.length, '= 0', crashes.length === 0],
  ['replicas alive at the end', alive, '= 2', alive === 2],
];
console.log('');
console.log(`chaos drill: ${updates} updates at ${rate}/s over ${chats} chats, 2 replicas; ${events.sort().map((e) => e[1]).join('; ')}`);
console.log(`posting ${postSeconds.toFixed(1)} s, drain after posting ${drainSeconds.toFixed(1)} s`);
console.log(`${'measure'.padEnd(42)} ${'value'.padStart(14)}  target`);
let passed = 0;
let failed = 0;
for (const [name, value, target, ok] of rows) {
  if (ok === true) passed++;
  if (ok === false) failed++;
  console.log(`${name.padEnd(42)} ${String(value).padStart(14)}  ${target}${ok === false ? '   FAIL' : ''}`);
}
for (const crash of crashes) console.log(`crash: ${crash}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
