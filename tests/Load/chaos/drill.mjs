// The chaos drill (started by run.sh): two bot replicas and the fake Bot API as processes against a PostgreSQL
// primary with a synchronous standby. Six phases run one after the other, each on its own update ids and chats so
// that each is counted on its own:
//   crash     paced load; the leader SIGKILLed at 30 % and restarted 2 s later; PostgreSQL SIGKILLed at 60 %
//             (postmaster and backends at once) and started again, recovering from its WAL
//   stall     paced load; the leader SIGSTOPped at 20 % for STALL seconds, then SIGCONTed. In PostgreSQL mode the
//             lock is a session advisory lock, and a stopped process keeps its session (the kernel still answers
//             for its socket): if no other replica has taken the lead after a lease and a second, the drill ends
//             the stopped leader's lock session with pg_terminate_backend, as a server-side timeout would, and says
//             so (STALL_TAKEOVER=strict makes a missing takeover a failure and does not help)
//   poison    paced load with one update, amid a burst of 32 of other chats, that crashes whichever replica handles
//             it (FaultInjection on every replica); a replica that dies is started again after 1 s, as a Deployment
//             would. The claims each dead process still held are its crash's bystanders: none may be caught twice
//   storm     paced load; from 20 % to 80 % the fake answers STORM_RATE calls a second with 429 (retry_after 1-3 s),
//             500, 502, a timeout (delivered or not) or a slow answer; at 40 % the leader is stopped (SIGTERM, a
//             rolling update's handover) and started again. No call to a chat may arrive inside its 429's retry_after
//   skew      saturating bursts (CONCURRENCY requests in flight) of SKEW normal chats, one update each: alone; after
//             HOT updates of one hot chat, so that its backlog is there when they arrive; QUIET seconds of quiet
//             with an ANALYZE inbox half-way; HOT more and the normal burst again. The normal chats' reply latency
//             (first webhook POST to the reply's delivery at the fake) of each burst. The hot chat's replies drain
//             at Telegram's 1/s through the later phases and are not waited for
//   failover  paced load; the primary SIGKILLed at 40 %, the standby promoted 1 s later; the replicas reach it
//             through their connection string's second host
// Each phase's table: acknowledged / stored / lost / handled / handled twice / dead-lettered / replies / duplicate
// sends against its in-flight bound / rate-limit violations, and the phase's own measures; then the run's. Ends
// with "N passed, N failed".
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';

const env = process.env;
const num = (name, fallback) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : fallback);
const updates = num('UPDATES', 100000);
const rate = num('RATE', 200);
const sendRate = num('SEND_RATE', 500);
const maxInFlight = num('MAX_IN_FLIGHT', 32);
const stallSeconds = num('STALL', 8);
const stallTakeover = env.STALL_TAKEOVER || 'help';
const stormRate = num('STORM_RATE', 40);
const quietSeconds = num('QUIET', 20);
const concurrency = num('CONCURRENCY', 128);
const skewSize = num('SKEW', Math.max(1000, Math.round(updates / 20)));
const hotSize = num('HOT', skewSize);
const maxAttempts = 5; // Processing__MaxAttempts of every replica
const leaseSeconds = 5; // Processing__LeaseSeconds
const sendTimeoutSeconds = 5; // Telegram__SendTimeoutSeconds: a timeout fault costs this much
const restartDelayMs = 1000;
const work = env.WORK;
const botBinary = env.BOT_BINARY;
const fakeDll = env.FAKE_DLL;
const ports = env.PORTS.split(' ').map(Number); // fake, A public, A internal, B public, B internal
const secret = 'chaos-drill-webhook-secret-0123456789';
const token = '123456789:chaos-drill-token-not-real-xxxxxxxxxxx';

const run = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const drillStarted = Date.now();
const log = (text) => console.log(`${new Date().toISOString().slice(11, 23)} ${text}`);
const clock = (t) => new Date(t).toISOString().slice(11, 23);
// The most calls arriving within any 1 s (the fake's own count, per phase from its record) and when that second ended.
function busiestSecond(times) {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { count: 0, at: null };
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= 1000) lo++;
    if (hi - lo + 1 > best.count) best = { count: hi - lo + 1, at: sorted[hi] };
  }
  return best;
}
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

// ---- PostgreSQL: the current primary's directory (the standby's after the failover) ----
let dbDir = env.PG_DIR;
const psql = async (sql) => (await run('scripts/pg.sh', ['psql', dbDir, '-Atc', sql], { maxBuffer: 256 << 20 })).stdout.trim();
const tryPsql = async (sql) => { try { return await psql(sql); } catch { return null; } };
const q = async (sql) => Number(await psql(sql));
const pgCommand = (...args) => run('scripts/pg.sh', args, { env });

// ---- processes ----
const crashes = [];
const live = new Set();
let stopping = false;
// The children still running, for run.sh to end if this script dies first (never a pid that has exited: it
// could belong to someone else by then).
const writePids = () => fs.writeFileSync(`${work}/pids`, [...live].map((pid) => `${pid}\n`).join(''));
function start(logFile, command, args, extraEnv, onExit) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  live.add(child.pid);
  writePids();
  child.on('exit', (code, signal) => {
    live.delete(child.pid);
    writePids();
    onExit(code, signal);
  });
  return child;
}
const alive = (child) => child && child.exitCode === null && child.signalCode === null;
const exited = (child) => new Promise((resolve) => (alive(child) ? child.once('exit', resolve) : resolve()));

function getStatus(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
  });
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
  { name: 'bot-a', public: ports[1], internal: ports[2], incarnation: 0 },
  { name: 'bot-b', public: ports[3], internal: ports[4], incarnation: 0 },
];
const other = (bot) => bots.find((b) => b !== bot);

// ---- phases: each its own update ids and chats ----
const phaseDefs = [];
const paced = (share, minSeconds) => Math.max(Math.round(updates * share), Math.ceil(rate * minSeconds));
function phase(key, title, count, chats) {
  const index = phaseDefs.length;
  const p = {
    index, key, title, count, chats,
    idBase: 500_000_000 + index * 10_000_000,
    chatBase: 1_000_000 + index * 1_000_000,
    chatOffset: null, // per update, when not n % chats
    ack: new Float64Array(count + 1),
    posted: new Float64Array(count + 1), // the first attempt
    acknowledged: 0,
    disruptions: 0, // each may repeat the calls in flight (MAX_IN_FLIGHT)
    extraDuplicates: 0, // further repeats the phase causes on purpose (timeouts of delivered calls)
    expectDead: 0,
    excludedChat: null, // the hot chat: its replies drain at 1/s and are not waited for
    rows: [],
    details: [], // lines printed under the phase's table
    events: [],
    errors: [],
  };
  p.chatOf = (n) => p.chatBase + (p.chatOffset ? p.chatOffset[n] : n % p.chats);
  p.inRange = `update_id > ${p.idBase} AND update_id <= ${p.idBase + count}`;
  p.outRange = `source_update_id > ${p.idBase} AND source_update_id <= ${p.idBase + count}`;
  phaseDefs.push(p);
  return p;
}
const chatsFor = (count) => Math.max(100, Math.floor(count / 10), rate * 2);
const crashPhase = phase('crash', 'leader SIGKILLed at 30 % and restarted after 2 s; PostgreSQL SIGKILLed at 60 % and restarted', paced(0.35, 8), 0);
const stallPhase = phase('stall', `leader SIGSTOPped at 20 % for ${stallSeconds} s (lease ${leaseSeconds} s), then SIGCONT`, paced(0.15, stallSeconds + 6), 0);
const poisonPhase = phase('poison', `an update amid a burst of 32 crashes every replica that handles it (MaxAttempts ${maxAttempts}); crashed replicas restarted after 1 s`, paced(0.10, 4), 0);
const stormPhase = phase('storm', `from 20 % to 80 % ${stormRate} faults/s (429, 500, 502, timeouts, slow); leader SIGTERMed at 40 % and restarted`, paced(0.15, 12), 0);
const skewPhase = phase('skew', `bursts of ${skewSize} normal chats: alone; beside a hot chat with ${hotSize} updates; again after ${quietSeconds} s of quiet and ANALYZE inbox`, 3 * skewSize + 2 * hotSize, 0);
const failoverPhase = phase('failover', 'primary SIGKILLed at 40 %, the synchronous standby promoted 1 s later', paced(0.15, 8), 0);
for (const p of [crashPhase, stallPhase, poisonPhase, stormPhase, failoverPhase]) p.chats = chatsFor(p.count);
const poisonN = Math.max(20, Math.floor(poisonPhase.count / 4));
const poisonId = poisonPhase.idBase + poisonN;
poisonPhase.expectDead = 1;

// The skew phase's layout: three bursts of SKEW normal chats with one update each, posted the same way. Before the
// second and the third, HOT updates of the hot chat, so that its backlog (handled one at a time in the inbox, replied
// to at 1/s) is there when the normal chats arrive.
const hotOffset = 999_999;
const bursts = [];
{
  const offsets = new Int32Array(skewPhase.count + 1);
  let n = 0;
  let nextChat = 0;
  for (const [name, withHot] of [['alone', false], ['beside the hot chat', true], [`after ${quietSeconds} s quiet`, true]]) {
    const burst = { name, withHot, hotFirst: n + 1 };
    if (withHot) for (let i = 0; i < hotSize; i++) offsets[++n] = hotOffset;
    burst.first = n + 1;
    for (let i = 0; i < skewSize; i++) offsets[++n] = nextChat++;
    burst.last = n;
    bursts.push(burst);
  }
  skewPhase.chatOffset = offsets;
  skewPhase.chats = nextChat + 1;
  skewPhase.excludedChat = skewPhase.chatBase + hotOffset;
}

// ---- the replicas ----
const botEnv = (bot) => ({
  Database__ConnectionString: env.DB,
  Telegram__BotToken: token,
  Telegram__WebhookSecret: secret,
  Telegram__ApiBaseUrl: fakeUrl,
  Telegram__SendTimeoutSeconds: String(sendTimeoutSeconds),
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
  Processing__LeaseSeconds: String(leaseSeconds),
  Processing__MaxAttempts: String(maxAttempts),
  Processing__PollIntervalSeconds: '0.2',
  Coordination__RetrySeconds: '0.5',
  FaultInjection__Enabled: 'true',
  FaultInjection__CrashOnUpdateIds: String(poisonId),
  // Warnings and errors only (a 100,000-update run would otherwise write gigabytes), and who leads.
  Logging__LogLevel__Default: 'Warning',
  'Logging__LogLevel__Bot.Coordination': 'Information',
});
const readLog = (file) => { try { return fs.readFileSync(file, 'utf8'); } catch { return ''; } };
const poisonCrashes = [];
const restarts = new Set();

function startBot(bot) {
  bot.incarnation++;
  bot.log = `${work}/${bot.name}.${bot.incarnation}.log`;
  bot.expected = false;
  const child = start(bot.log, botBinary, [], botEnv(bot), (code, signal) => onBotExit(bot, child, code, signal));
  bot.process = child;
  return waitReady(bot, child);
}
/** Ready, or false when the process died first (a poison update it claimed at start). */
async function waitReady(bot, child, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(child)) return false;
    try {
      if (await getStatus(`http://127.0.0.1:${bot.internal}/readyz`) === 200) return true;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  throw new Error(`${bot.name} not ready in ${timeoutMs} ms`);
}
function onBotExit(bot, child, code, signal) {
  if (bot.process !== child || bot.expected || stopping) return;
  const how = code ?? signal;
  if (readLog(bot.log).includes(`fault injection: update ${poisonId} crashes the process`)) {
    const crash = { bot: bot.name, at: Date.now(), how, bystanders: null };
    poisonCrashes.push(crash);
    poisonPhase.events.push([Date.now(), `${bot.name} crashed`]);
    // The crash's bystanders: what the dead process still held (its claims keep its owner, host:pid:instance,
    // until their lease runs out and another replica takes them).
    crash.query = tryPsql(`SELECT coalesce(string_agg(update_id::text, ',' ORDER BY update_id), '') FROM inbox
      WHERE state = 'processing' AND lease_owner LIKE '%:${child.pid}:%' AND update_id <> ${poisonId}`)
      .then((ids) => { crash.bystanders = ids === null ? null : ids.split(',').filter(Boolean).map(Number); });
    log(`${bot.name} crashed on the poison update (${how}); restarting it in 1 s`);
  } else {
    // A graceful stop the drill did not ask for says so in the log ("Application is shutting down...").
    const text = readLog(bot.log);
    const graceful = text.includes('Application is shutting down') ? ', after "Application is shutting down" (a SIGTERM from outside the drill?)' : '';
    const lastError = text.split('\n').filter((l) => /"LogLevel":"(Error|Critical)"/.test(l) && !l.includes('Fault injection is on')).at(-1);
    crashes.push(`${bot.name} (pid ${child.pid}, ${bot.log.slice(work.length + 1)}) exited with ${how}${graceful}${lastError ? `; last error: ${lastError.slice(0, 300)}` : ''}`);
    log(`UNEXPECTED EXIT: ${bot.name} ${how}; restarting it in 1 s`);
  }
  // As a Deployment would: a new process after a moment.
  const restart = sleep(restartDelayMs).then(() => (stopping ? null : startBot(bot))).catch((e) => crashes.push(`${bot.name} restart: ${e.message}`));
  restarts.add(restart);
  restart.finally(() => restarts.delete(restart));
}
async function botsUp(timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await Promise.all([...restarts]);
    let ready = 0;
    for (const bot of bots) {
      try { if (alive(bot.process) && await getStatus(`http://127.0.0.1:${bot.internal}/readyz`) === 200) ready++; } catch { /* down */ }
    }
    if (ready === bots.length) return;
    await sleep(200);
  }
  throw new Error('both replicas not ready');
}
/** The current term: its epoch, when it began (ISO) and the replica holding it (from its process id). */
async function term() {
  const row = await tryPsql("SELECT epoch || ' ' || split_part(holder, ':', 2) || ' ' || to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM leader_epochs WHERE name = 'leader'");
  if (!row) return null;
  const [epoch, pid, startedAt] = row.split(' ');
  return { epoch: Number(epoch), pid: Number(pid), startedAt, bot: bots.find((b) => b.process?.pid === Number(pid) && alive(b.process)) };
}
async function waitTerm(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const t = await term();
    if (t && predicate(t)) return t;
    await sleep(100);
  }
  return null;
}
const leader = async () => (await waitTerm((t) => t.bot, 10000))?.bot ?? bots[0];
async function stopBot(bot, signal) {
  bot.expected = true;
  bot.process.kill(signal);
  const timer = setTimeout(() => alive(bot.process) && bot.process.kill('SIGKILL'), 30000);
  await exited(bot.process);
  clearTimeout(timer);
}

// ---- posting, as Telegram delivers: each update until acknowledged, retried with backoff, to either replica ----
const agents = bots.map(() => new http.Agent({ keepAlive: true, maxSockets: 128 }));
let attempts = 0;
let retries = 0;
const failures = {};
function post(botIndex, p, n) {
  const chat = p.chatOf(n);
  const body = JSON.stringify({
    update_id: p.idBase + n,
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
async function deliver(p, n) {
  for (let attempt = 0; ; attempt++) {
    if (attempt === 0) p.posted[n] = Date.now();
    const status = await post((n + attempt) % 2, p, n);
    if (status === 200) {
      p.ack[n] = Date.now();
      p.acknowledged++;
      return;
    }
    failures[status] = (failures[status] || 0) + 1;
    retries++;
    if (attempt > 500) throw new Error(`update ${p.idBase + n} not acknowledged after ${attempt} attempts`);
    await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
  }
}
/**
 * Posts the phase's updates at RATE; each hook runs once its share of the updates has been posted. Updates
 * burst.first..burst.last, when given, are all due at once (at the first one's time).
 */
async function postPaced(p, hooks, burst = null) {
  const started = Date.now();
  const pending = new Set();
  const chaos = [];
  let next = 0;
  for (let n = 1; n <= p.count; n++) {
    const due = burst && n >= burst.first && n <= burst.last ? burst.first : n;
    const wait = started + (due * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    const d = deliver(p, n).finally(() => pending.delete(d));
    pending.add(d);
    while (next < hooks.length && n >= p.count * hooks[next].at) {
      const hook = hooks[next++];
      chaos.push(hook.run().catch((e) => { p.errors.push(`${hook.name}: ${e.message}`); log(`${p.key}: ${hook.name} failed: ${e.message}`); }));
    }
    if (n % Math.max(1, Math.floor(p.count / 5)) === 0) log(`${p.key}: posted ${n}, acknowledged ${p.acknowledged}, in flight ${pending.size}`);
  }
  await Promise.all(pending);
  await Promise.all(chaos);
  p.postMs = Date.now() - started;
}
/** Posts updates first..last as fast as the webhook takes them, CONCURRENCY at a time. */
async function postSaturated(p, first, last) {
  const started = Date.now();
  let n = first;
  const worker = async () => { while (n <= last) await deliver(p, n++); };
  await Promise.all(Array.from({ length: Math.min(concurrency, last - first + 1) }, worker));
  return Date.now() - started;
}
/** Waits until the phase's updates are handled and its replies (but the hot chat's) sent; the time it took. */
async function settle(p, timeoutMs, label = p.key) {
  const started = Date.now();
  const except = p.excludedChat === null ? '' : ` AND chat_id <> ${p.excludedChat}`;
  while (true) {
    const row = await tryPsql(`SELECT (SELECT count(*) FROM inbox WHERE ${p.inRange} AND state IN ('pending', 'processing')) || ' ' ||
      (SELECT count(*) FROM outbox WHERE ${p.outRange} AND state IN ('pending', 'sending')${except})`);
    if (row) {
      const [inbox, outbox] = row.split(' ').map(Number);
      if (inbox === 0 && outbox === 0) return Date.now() - started;
      if (Date.now() - started > timeoutMs) {
        p.errors.push(`${label}: not settled in ${seconds(timeoutMs)} (${inbox} updates unfinished, ${outbox} replies unsent)`);
        log(`${label}: not settled: ${inbox} updates unfinished, ${outbox} replies unsent`);
        return Date.now() - started;
      }
    }
    await sleep(250);
  }
}
const settleBudget = (count) => Math.max(60000, (count / sendRate) * 3000);

// ---- the disruptions ----
async function killLeader(p) {
  const victim = await leader();
  log(`${p.key}: SIGKILL ${victim.name} (the leader)`);
  p.events.push([Date.now(), `SIGKILL ${victim.name}`]);
  await stopBot(victim, 'SIGKILL');
  await sleep(2000);
  await startBot(victim);
  log(`${p.key}: ${victim.name} restarted`);
}
async function waitSync(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await tryPsql("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") === '1') return true;
    await sleep(100);
  }
  return false;
}
async function killPostgres(p) {
  log(`${p.key}: SIGKILL PostgreSQL (the primary's postmaster and backends)`);
  const killedAt = Date.now();
  p.events.push([killedAt, 'PostgreSQL SIGKILL']);
  await pgCommand('kill', env.PG_DIR);
  await pgCommand('start', env.PG_DIR, env.PG_PORT);
  p.events.push([Date.now(), 'PostgreSQL up']);
  p.pgDownMs = Date.now() - killedAt;
  p.standbyBack = await waitSync(30000);
  p.standbyBackMs = Date.now() - killedAt;
  log(`${p.key}: PostgreSQL back after ${seconds(p.pgDownMs)} (crash recovery), standby in sync after ${seconds(p.standbyBackMs)}`);
}

// The leader lock's key, as PostgresLeaderLock computes it (SHA-256 of "bot.leader:" + Coordination:LeaseName),
// as pg_locks shows a bigint advisory lock: high half in classid, low half in objid.
const lockKey = BigInt.asUintN(64, crypto.createHash('sha256').update('bot.leader:bot-leader').digest().readBigInt64LE(0));
const lockWhere = `locktype = 'advisory' AND granted AND classid = ${Number(lockKey >> 32n)} AND objid = ${Number(lockKey & 0xffffffffn)} AND objsubid = 1`;

async function stallLeader(p) {
  const before = await waitTerm((t) => t.bot, 10000);
  const victim = before.bot;
  const logOffset = readLog(victim.log).length;
  p.stall = { victim: victim.name, before: before.epoch, logOffset, logFile: victim.log, pid: victim.process.pid };
  const stoppedAt = Date.now();
  victim.process.kill('SIGSTOP');
  p.events.push([stoppedAt, `SIGSTOP ${victim.name}`]);
  log(`${p.key}: SIGSTOP ${victim.name} (the leader, epoch ${before.epoch})`);
  let after = await waitTerm((t) => t.epoch > before.epoch, (leaseSeconds + 1) * 1000);
  p.stall.byItself = after !== null;
  if (!after && stallTakeover !== 'strict') {
    const ended = await tryPsql(`SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE ${lockWhere}`);
    p.stall.terminated = Number(ended);
    log(`${p.key}: no takeover in ${leaseSeconds + 1} s: the stopped leader's lock session ended by the drill (${ended})`);
    after = await waitTerm((t) => t.epoch > before.epoch, 10000);
  }
  p.stall.after = after;
  p.stall.takeoverMs = after ? Date.now() - stoppedAt : null;
  if (after) {
    log(`${p.key}: epoch ${after.epoch} begun by ${after.bot?.name ?? `pid ${after.pid}`}`);
    p.events.push([Date.parse(after.startedAt), `epoch ${after.epoch} begins`]);
  }
  const rest = stoppedAt + stallSeconds * 1000 - Date.now();
  if (rest > 0) await sleep(rest);
  victim.process.kill('SIGCONT');
  p.events.push([Date.now(), `SIGCONT ${victim.name}`]);
  p.stall.stoppedMs = Date.now() - stoppedAt;
  log(`${p.key}: SIGCONT ${victim.name} after ${seconds(p.stall.stoppedMs)}`);
  p.stall.bot = victim;
}

const faultKinds = [
  // A 429 pauses all of the sender's calls for its retry_after: a tenth of them is already a storm of pauses.
  ['429', 10, () => ({ status: 429, retry_after: 1 + Math.floor(Math.random() * 3) })],
  ['500', 30, () => ({ status: 500 })],
  ['502', 20, () => ({ status: 502 })],
  ['timeout', 12, () => ({ timeout: true, delivered: false })],
  ['timeout (delivered)', 12, () => ({ timeout: true, delivered: true })],
  ['slow 2 s', 16, () => ({ delay_ms: 2000 })],
];
async function storm(p, durationMs) {
  const total = faultKinds.reduce((s, k) => s + k[1], 0);
  const end = Date.now() + durationMs;
  const added = {};
  log(`${p.key}: fault storm for ${seconds(durationMs)}`);
  while (Date.now() < end) {
    let pick = Math.random() * total;
    const kind = faultKinds.find((k) => (pick -= k[1]) < 0) ?? faultKinds[0];
    await json('POST', `${fakeUrl}/_fake/faults`, { ...kind[2](), method: 'sendMessage' });
    added[kind[0]] = (added[kind[0]] || 0) + 1;
    await sleep(1000 / stormRate);
  }
  // What no call has taken yet is not for the next phase.
  p.faultsLeft = (await json('GET', `${fakeUrl}/_fake/faults`)).length;
  await json('DELETE', `${fakeUrl}/_fake/faults`);
  p.faultsAdded = added;
  log(`${p.key}: storm over (${JSON.stringify(added)}; ${p.faultsLeft} not taken)`);
}
async function handover(p) {
  const victim = await leader();
  const before = await term();
  log(`${p.key}: SIGTERM ${victim.name} (the leader, epoch ${before?.epoch}) during the storm`);
  const stoppedAt = Date.now();
  p.events.push([stoppedAt, `SIGTERM ${victim.name}`]);
  await stopBot(victim, 'SIGTERM');
  p.handoverStopMs = Date.now() - stoppedAt;
  p.handoverTerm = await waitTerm((t) => t.epoch > (before?.epoch ?? 0) && t.bot === other(victim), 30000);
  await sleep(1000);
  await startBot(victim);
  log(`${p.key}: ${victim.name} stopped in ${seconds(p.handoverStopMs)} and restarted; epoch ${p.handoverTerm?.epoch} on ${p.handoverTerm?.bot?.name}`);
}

async function failover(p) {
  p.syncAtKill = (await tryPsql("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")) === '1';
  log(`${p.key}: SIGKILL the primary (synchronous standby attached: ${p.syncAtKill})`);
  p.killedAt = Date.now();
  p.events.push([p.killedAt, 'primary SIGKILL']);
  await pgCommand('kill', env.PG_DIR);
  await sleep(1000);
  await pgCommand('promote', env.SB_DIR);
  dbDir = env.SB_DIR;
  p.promotedAt = Date.now();
  p.events.push([p.promotedAt, 'standby promoted']);
  p.promotedDbTime = await psql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  log(`${p.key}: standby promoted ${seconds(p.promotedAt - p.killedAt)} after the kill`);
}

// ---- start ----
const fake = start(`${work}/fake.log`, 'dotnet', [fakeDll, '--port', String(ports[0]), '--quiet',
  '--max-recorded-calls', String(phaseDefs.reduce((s, p) => s + p.count, 0) * 3 + 20000)], {}, (code, signal) => {
  if (!stopping) crashes.push(`fake Bot API exited with ${code ?? signal}`);
});
for (let i = 0; ; i++) {
  try { if (await getStatus(`${fakeUrl}/_fake/stats`) === 200) break; } catch { /* not up yet */ }
  if (i > 300) throw new Error('the fake Bot API did not start');
  await sleep(100);
}
// Telegram's limits, with the overall one raised to what the bot is told to send: still enforced, so a send
// over any limit shows up as a 429 and a violation.
await json('POST', `${fakeUrl}/_fake/limits`, { global: { count: sendRate, window_ms: 1000 } });
await startBot(bots[0]);
await waitTerm((t) => t.bot === bots[0], 10000);
await startBot(bots[1]);
log(`fake Bot API, both replicas ready; ${phaseDefs.map((p) => `${p.key} ${p.count}`).join(', ')} updates; poison update ${poisonId}`);

const only = env.PHASES ? env.PHASES.split(',') : null;
async function runPhase(p, body) {
  if (only && !only.includes(p.key)) { p.skipped = true; return; }
  log(`---- phase ${p.index + 1}/${phaseDefs.length} ${p.key}: ${p.title}`);
  const started = Date.now();
  try {
    await botsUp();
    await body();
  } catch (e) {
    p.errors.push(e.message);
    log(`${p.key}: ${e.message}`);
  }
  p.wallMs = Date.now() - started;
  p.startedAt = started;
  p.endedAt = Date.now();
}

await runPhase(crashPhase, async () => {
  crashPhase.disruptions = 2;
  await postPaced(crashPhase, [
    { at: 0.3, name: 'leader SIGKILL', run: () => killLeader(crashPhase) },
    { at: 0.6, name: 'PostgreSQL SIGKILL', run: () => killPostgres(crashPhase) },
  ]);
  crashPhase.settleMs = await settle(crashPhase, settleBudget(crashPhase.count));
});

await runPhase(stallPhase, async () => {
  stallPhase.disruptions = 1;
  await postPaced(stallPhase, [{ at: 0.2, name: 'leader SIGSTOP', run: () => stallLeader(stallPhase) }]);
  stallPhase.settleMs = await settle(stallPhase, settleBudget(stallPhase.count));
});

await runPhase(poisonPhase, async () => {
  // The poison update arrives in the middle of a burst of updates of other chats, so that the replica which first
  // takes it has bystanders of the crash (a claim takes up to Processing:Concurrency updates), some older than it.
  await postPaced(poisonPhase, [], { first: poisonN - 16, last: poisonN + 15 });
  // Every attempt needs a lease to run out first: MaxAttempts leases, and restarts, on top of the load.
  poisonPhase.settleMs = await settle(poisonPhase, settleBudget(poisonPhase.count) + maxAttempts * (leaseSeconds + 10) * 1000);
  poisonPhase.disruptions = poisonCrashes.length;
});

await runPhase(stormPhase, async () => {
  stormPhase.disruptions = 1;
  const durationMs = (stormPhase.count / rate) * 600;
  await postPaced(stormPhase, [
    { at: 0.2, name: 'fault storm', run: () => storm(stormPhase, durationMs) },
    { at: 0.4, name: 'leader SIGTERM', run: () => handover(stormPhase) },
  ]);
  stormPhase.settleMs = await settle(stormPhase, settleBudget(stormPhase.count) + 120000);
});

await runPhase(skewPhase, async () => {
  for (const [i, burst] of bursts.entries()) {
    if (i === 2) {
      log(`skew: quiet for ${quietSeconds} s, ANALYZE inbox half-way`);
      await sleep((quietSeconds * 1000) / 2);
      const t = Date.now();
      await psql('ANALYZE inbox');
      burst.analyzeMs = Date.now() - t;
      await sleep((quietSeconds * 1000) / 2);
    }
    if (burst.withHot) burst.hotPostMs = await postSaturated(skewPhase, burst.hotFirst, burst.first - 1);
    burst.postMs = await postSaturated(skewPhase, burst.first, burst.last);
    const [lo, hi] = [skewPhase.idBase + burst.hotFirst - 1, skewPhase.idBase + burst.last];
    burst.settleMs = await settle({ ...skewPhase, inRange: `update_id > ${lo} AND update_id <= ${hi}`,
      outRange: `source_update_id > ${lo} AND source_update_id <= ${hi}` },
      // The hot chat's updates are handled one at a time, in order: a few milliseconds each.
      settleBudget(skewSize) + (burst.withHot ? hotSize * 50 : 0), `skew ${burst.name}`);
    log(`skew: burst ${burst.name}: ${burst.withHot ? `${hotSize} of the hot chat acknowledged in ${seconds(burst.hotPostMs)}, then ` : ''}${skewSize} normal in ${seconds(burst.postMs)}; settled ${seconds(burst.settleMs)} later`);
  }
  skewPhase.postMs = bursts.reduce((s, b) => s + b.postMs + (b.hotPostMs ?? 0), 0);
  skewPhase.settleMs = bursts.reduce((s, b) => s + b.settleMs, 0);
});

await runPhase(failoverPhase, async () => {
  failoverPhase.disruptions = 1;
  await postPaced(failoverPhase, [{ at: 0.4, name: 'failover', run: () => failover(failoverPhase) }]);
  failoverPhase.settleMs = await settle(failoverPhase, settleBudget(failoverPhase.count));
});

// ---- count, once the replicas have stopped (gracefully: calls in flight finish and are recorded) ----
async function stopAll(children) {
  children = children.filter(alive);
  for (const child of children) { child.kill('SIGCONT'); child.kill('SIGTERM'); }
  await Promise.all(children.map((c) => new Promise((resolve) => {
    const timer = setTimeout(() => { c.kill('SIGKILL'); resolve(); }, 30000);
    c.on('exit', () => { clearTimeout(timer); resolve(); });
  })));
}
const survivors = bots.filter((b) => alive(b.process)).length;
stopping = true;
await Promise.all([...restarts]);
await stopAll(bots.map((b) => b.process));
log('counting');
const base = phaseDefs[0].idBase;
const perPhase = (rows) => new Map(rows.split('\n').filter(Boolean).map((line) => {
  const [k, ...v] = line.split('|');
  return [Number(k), v.map(Number)];
}));
const inboxCounts = perPhase(await psql(`SELECT (update_id - ${base}) / 10000000, count(*), count(*) FILTER (WHERE state = 'done'),
  count(*) FILTER (WHERE state = 'dead'), count(*) FILTER (WHERE state IN ('pending', 'processing')) FROM inbox WHERE update_id > ${base} GROUP BY 1`));
const outboxCounts = perPhase(await psql(`SELECT (source_update_id - ${base}) / 10000000, count(*), count(DISTINCT source_update_id),
  count(*) FILTER (WHERE state = 'dead'), count(*) FILTER (WHERE state IN ('pending', 'sending')) FROM outbox WHERE source_update_id > ${base} GROUP BY 1`));
const twice = perPhase(await psql(`SELECT p, sum(n - 1) FROM (SELECT (source_update_id - ${base}) / 10000000 p, count(*) n FROM outbox
  WHERE source_update_id > ${base} GROUP BY source_update_id HAVING count(*) > 1) t GROUP BY p`));
const stats = await json('GET', `${fakeUrl}/_fake/stats`);
const calls = await json('GET', `${fakeUrl}/_fake/calls?method=sendMessage`);
const phaseOfChat = (chat) => {
  const i = Math.floor((chat - 1_000_000) / 1_000_000);
  return i >= 0 && i < phaseDefs.length ? i : -1;
};
for (const c of calls) c.t = Date.parse(c.received_at);
// Per phase: delivered calls, each reply's first delivery (chat/replied message id) and how often it was delivered.
const byPhase = phaseDefs.map(() => ({ delivered: 0, keys: new Map(), perKey: new Map(), limited: 0, limitedCalls: [], attempts: [] }));
const callsByChat = new Map();
for (const c of calls) {
  if (!callsByChat.has(c.chat_id)) callsByChat.set(c.chat_id, []);
  callsByChat.get(c.chat_id).push(c);
}
for (const c of calls) {
  const i = phaseOfChat(c.chat_id);
  if (i < 0) continue;
  const b = byPhase[i];
  b.attempts.push(c.t);
  if (c.rate_limited) { b.limited++; b.limitedCalls.push(c); }
  if (!c.delivered) continue;
  b.delivered++;
  const key = `${c.chat_id}/${c.body?.reply_parameters?.message_id}`;
  const first = b.keys.get(key);
  if (first === undefined || c.t < first) b.keys.set(key, c.t);
  b.perKey.set(key, (b.perKey.get(key) || 0) + 1);
}
const pct = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (v) => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : '-');

// Phase-specific measures, gathered before the processes stop.
if (!crashPhase.skipped) {
  const p = crashPhase;
  p.rows.push(['PostgreSQL killed to accepting again', p.pgDownMs === undefined ? '-' : seconds(p.pgDownMs), 'crash recovery', null]);
  p.rows.push(['standby back in sync after the kill', p.standbyBack ? seconds(p.standbyBackMs) : 'no', 'yes', p.standbyBack === true]);
}
if (!stallPhase.skipped) {
  const p = stallPhase;
  const s = p.stall ?? {};
  const after = s.after;
  const text = s.logFile ? readLog(s.logFile).slice(s.logOffset) : '';
  const fenced = (text.match(/is no longer the current leadership term/g) || []).length;
  const steppedDown = text.includes('Leadership lost');
  let lateSettles = null;
  if (after) {
    lateSettles = await q(`SELECT count(*) FROM outbox WHERE epoch = ${s.before} AND state IN ('sent', 'dead') AND sent_at >= '${after.startedAt}'`);
  }
  const takeover = s.byItself ? `yes, ${seconds(s.takeoverMs)}` : after ? `no; helped ${seconds(s.takeoverMs)}` : 'none';
  p.rows.push(['takeover by itself while it was stopped', takeover, stallTakeover === 'strict' ? 'yes, within a lease'
    : 'informational (helped: the drill ended its lock session; STALL_TAKEOVER=strict fails it)',
    stallTakeover === 'strict' ? s.byItself === true : null]);
  p.rows.push(['new term begun by the other replica', after ? `epoch ${s.before} -> ${after.epoch}` : 'no', 'yes', !!after && after.pid !== s.pid]);
  p.rows.push(['old leader: stopped for', s.stoppedMs ? seconds(s.stoppedMs) : '-', `> ${leaseSeconds} s lease`, (s.stoppedMs ?? 0) > leaseSeconds * 1000]);
  p.rows.push(['old epoch settles after the new term', lateSettles ?? '-', '= 0', lateSettles === 0]);
  p.rows.push(['old leader stepped down after SIGCONT', steppedDown ? 'yes' : 'no', 'yes', steppedDown]);
  p.rows.push(['old leader settles refused by the fence', fenced, 'logged, informational', null]);
}
if (!poisonPhase.skipped) {
  const p = poisonPhase;
  const row = await psql(`SELECT state || '|' || attempts || '|' || coalesce(last_error, '') FROM inbox WHERE update_id = ${poisonId}`);
  const [state, attemptsSpent, ...error] = row.split('|');
  const lastError = error.join('|');
  const chat = p.chatOf(poisonN);
  const laterInChat = await psql(`SELECT count(*) || ' ' || count(*) FILTER (WHERE state = 'done') FROM inbox WHERE ${p.inRange} AND chat_id = ${chat} AND update_id > ${poisonId}`);
  const [later, laterDone] = laterInChat.split(' ').map(Number);
  const bystanders = await psql(`SELECT count(*) FILTER (WHERE attempts > 1) || ' ' || coalesce(max(attempts), 0) FROM inbox WHERE ${p.inRange} AND update_id <> ${poisonId}`);
  const [retried, maxOther] = bystanders.split(' ').map(Number);
  const deadAt = await q(`SELECT coalesce(extract(epoch FROM processed_at) * 1000, 0) FROM inbox WHERE update_id = ${poisonId}`);
  const firstCrash = poisonCrashes[0]?.at;
  p.rows.push(['poison update dead-lettered', `${state}, ${attemptsSpent} attempts`, `dead, ${maxAttempts} attempts`, state === 'dead' && Number(attemptsSpent) === maxAttempts]);
  p.rows.push(['its last_error', lastError.slice(0, 34), 'the handler did not finish…', lastError.startsWith('the handler did not finish')]);
  p.rows.push(['replica crashes on it (all restarted)', poisonCrashes.length, `= ${maxAttempts}`, poisonCrashes.length === maxAttempts]);
  p.rows.push(['first crash to dead-lettered', firstCrash && deadAt ? seconds(deadAt - firstCrash) : '-', 'informational', null]);
  p.rows.push(['its chat\'s later updates handled', `${laterDone} / ${later}`, `= ${later}`, laterDone === later]);
  await Promise.all(poisonCrashes.map((c) => c.query));
  const hits = new Map();
  for (const c of poisonCrashes) for (const id of c.bystanders ?? []) hits.set(id, (hits.get(id) || 0) + 1);
  const repeated = [...hits].filter(([, n]) => n > 1);
  p.rows.push(['bystanders of each crash', poisonCrashes.map((c) => c.bystanders?.length ?? '?').join(', '), 'claims the dead process held, informational', null]);
  p.rows.push(['bystanders caught in more than one crash', repeated.length, '= 0 (one attempt lost at most)', repeated.length === 0]);
  if (repeated.length > 0) p.details.push(`caught more than once (update: crashes): ${repeated.map(([id, n]) => `${id}: ${n}`).join(', ')}`);
  p.rows.push(['bystanders retried / most attempts', `${retried} / ${maxOther}`, 'informational (timeouts count too)', null]);
  if (maxOther > 2) {
    const worst = await psql(`SELECT string_agg(update_id || ' (' || attempts || ', ' || state || ')', ', ' ORDER BY update_id) FROM inbox WHERE ${p.inRange} AND update_id <> ${poisonId} AND attempts > 2`);
    p.details.push(`bystanders with more than 2 attempts (poison ${poisonId}): ${worst}`);
  }
}
if (!stormPhase.skipped) {
  const p = stormPhase;
  const injected = calls.filter((c) => c.injected && phaseOfChat(c.chat_id) === p.index);
  const kinds = {};
  for (const c of injected) {
    const kind = c.status === null ? (c.delivered ? 'timeout (delivered)' : 'timeout') : c.status === 200 ? 'slow' : String(c.status);
    kinds[kind] = (kinds[kind] || 0) + 1;
  }
  p.extraDuplicates = kinds['timeout (delivered)'] || 0;
  p.extraLabel = `${p.extraDuplicates} delivered timeouts`;
  // A 429's retry_after for its chat: no call to that chat may arrive before it has passed.
  let early = 0;
  let duringPause = 0;
  const limited = injected.filter((c) => c.status === 429);
  const paused = new Set();
  for (const l of limited) {
    const until = l.t + l.retry_after * 1000;
    for (const c of callsByChat.get(l.chat_id)) if (c.t > l.t && c.t < until) early++;
    for (const c of calls) if (c.t > l.t + 100 && c.t < until) paused.add(c.seq);
  }
  duringPause = paused.size;
  const added = Object.values(p.faultsAdded ?? {}).reduce((a, b) => a + b, 0);
  p.rows.push(['faults answered', `${injected.length} of ${added}`, Object.entries(kinds).map(([k, v]) => `${v} × ${k}`).join(', ') || 'none', injected.length > 0]);
  p.rows.push(['sends to a chat inside its retry_after', early, '= 0', early === 0]);
  p.rows.push(['sends inside any 429\'s pause (>100 ms)', duringPause, 'informational (pause not shared on handover)', null]);
  p.rows.push(['handover: new term on the other replica', p.handoverTerm ? `epoch ${p.handoverTerm.epoch}, stop took ${seconds(p.handoverStopMs)}` : 'no', 'yes', !!p.handoverTerm]);
}
if (!skewPhase.skipped) {
  const p = skewPhase;
  const keys = byPhase[p.index].keys;
  const hotChat = p.chatBase + hotOffset;
  for (const burst of bursts) {
    const lat = [];
    const delivered = [];
    for (let n = burst.first; n <= burst.last; n++) {
      const at = keys.get(`${p.chatOf(n)}/${n}`);
      if (at === undefined) continue;
      delivered.push(at);
      if (p.posted[n] > 0) lat.push(at - p.posted[n]);
    }
    delivered.sort((a, b) => a - b);
    // The replies go out at SEND_RATE at most: a burst that arrives faster than that queues, whatever else is going on.
    const throughput = delivered.length > 1 ? (delivered.length - 1) / ((delivered.at(-1) - delivered[0]) / 1000) : 0;
    const range = `update_id >= ${p.idBase + burst.first} AND update_id <= ${p.idBase + burst.last}`;
    const handledP99 = Number(await psql(`SELECT coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)), 0) FROM inbox WHERE ${range}`)) * 1000;
    const hot = burst.withHot ? `after ${hotSize} of the hot chat in ${seconds(burst.hotPostMs)}` : 'no hot chat';
    p.rows.push([`burst ${burst.name}: normal ingest`, `${skewSize} in ${seconds(burst.postMs)}`, `${Math.round(skewSize / (burst.postMs / 1000))}/s; ${hot}`, null]);
    p.rows.push(['  normal chats\' reply p50 / p99', `${ms(pct(lat, 50))} / ${ms(pct(lat, 99))}`,
      `max ${ms(pct(lat, 100))}; replies ${Math.round(throughput)}/s (limit ${sendRate}); handled p99 ${ms(handledP99)}`, null]);
  }
  const hotRows = await psql(`SELECT count(*) || ' ' || count(*) FILTER (WHERE state = 'sent') || ' ' || count(*) FILTER (WHERE state IN ('pending', 'sending')) FROM outbox WHERE chat_id = ${hotChat}`);
  const [hotTotal, hotSent, hotQueued] = hotRows.split(' ').map(Number);
  p.hotQueued = hotQueued;
  // The hot chat's replies drain through the phases after this one: one call of it in flight at each of their disruptions.
  p.extraDuplicates = phaseDefs.slice(p.index + 1).reduce((sum, later) => sum + later.disruptions, 0);
  p.extraLabel = `${p.extraDuplicates} hot-chat calls in later disruptions`;
  const hotDeliveries = calls.filter((c) => c.chat_id === hotChat && c.delivered).map((c) => c.t).sort((a, b) => a - b);
  const hotRate = hotDeliveries.length > 1 ? (hotDeliveries.length - 1) / ((hotDeliveries.at(-1) - hotDeliveries[0]) / 1000) : 0;
  p.rows.push(['hot chat: replies sent / still queued', `${hotSent} / ${hotQueued}`, `of ${2 * hotSize}; ${hotRate.toFixed(2)}/s (Telegram's 1/s)`, hotTotal === 2 * hotSize]);
  p.analyzeMs = bursts[2].analyzeMs;
}
if (!failoverPhase.skipped) {
  const p = failoverPhase;
  const afterPromotion = p.promotedDbTime ? await q(`SELECT count(*) FROM inbox WHERE ${p.inRange} AND received_at > '${p.promotedDbTime}'`) : 0;
  const acks = [...p.ack.subarray(1)].filter((t) => t > 0).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < acks.length; i++) if (acks[i] > (p.killedAt ?? 0) - 1000) gap = Math.max(gap, acks[i] - acks[i - 1]);
  p.rows.push(['synchronous standby when the primary died', p.syncAtKill ? 'yes' : 'no', 'yes', p.syncAtKill === true]);
  p.rows.push(['kill to promoted', p.promotedAt ? seconds(p.promotedAt - p.killedAt) : '-', 'informational', null]);
  p.rows.push(['stored on the promoted standby after it', afterPromotion, '> 0', afterPromotion > 0]);
  p.rows.push(['longest wait for a 200 around it', seconds(gap), 'informational', null]);
}

await stopAll([fake]);

// ---- report ----
let passed = 0;
let failed = 0;
const header = () => console.log(`${'measure'.padEnd(42)} ${'value'.padStart(16)}  target`);
const print = ([name, value, target, ok]) => {
  if (ok === true) passed++;
  if (ok === false) failed++;
  console.log(`${name.padEnd(42)} ${String(value).padStart(16)}  ${target}${ok === false ? '   FAIL' : ''}`);
};
let totalStored = 0;
let totalPosted = 0;
let totalDuplicates = 0;
for (const p of phaseDefs.filter((d) => !d.skipped)) {
  const [stored = 0, done = 0, dead = 0, unfinished = 0] = inboxCounts.get(p.index) ?? [];
  const [rows = 0, distinct = 0, deadReplies = 0, unsent = 0] = outboxCounts.get(p.index) ?? [];
  const extra = twice.get(p.index)?.[0] ?? 0;
  const b = byPhase[p.index];
  const perKey = b.perKey;
  const duplicates = b.delivered - perKey.size;
  const expectedHandled = p.count - p.expectDead;
  let withReply = 0;
  for (let n = 1; n <= p.count; n++) {
    if (perKey.has(`${p.chatOf(n)}/${n}`)) withReply++;
  }
  const hotQueued = p.hotQueued ?? 0;
  const bound = maxInFlight * p.disruptions + p.extraDuplicates;
  totalStored += stored;
  totalPosted += p.acknowledged;
  totalDuplicates += duplicates;
  console.log('');
  console.log(`phase ${p.index + 1} ${p.key}: ${p.title}`);
  console.log(`  ${p.count} updates over ${p.chats} chats; posting ${seconds(p.postMs ?? 0)}, settled ${seconds(p.settleMs ?? 0)} after, ${seconds(p.wallMs ?? 0)} in all`);
  header();
  for (const error of p.errors) print(['phase ran as planned', error.slice(0, 60), 'no error', false]);
  print(['updates acknowledged (200)', p.acknowledged, `= ${p.count}`, p.acknowledged === p.count]);
  print(['stored (inbox rows)', stored, `= ${p.count}`, stored === p.count]);
  print(['lost (acknowledged, not stored)', p.acknowledged - Math.min(stored, p.acknowledged), '= 0', stored >= p.acknowledged]);
  print(['handled (inbox done)', done, `= ${expectedHandled}`, done === expectedHandled && unfinished === 0]);
  print(['dead-lettered', dead, `= ${p.expectDead}`, dead === p.expectDead]);
  print(['outbox rows / updates with a reply', `${rows} / ${distinct}`, `= ${expectedHandled} / ${expectedHandled}`, rows === expectedHandled && distinct === expectedHandled]);
  print(['handled twice (extra outbox rows)', extra, '= 0', extra === 0]);
  print(['replies not sent / dead-lettered', `${unsent} / ${deadReplies}`, p.excludedChat === null ? '= 0 / 0' : `= ${hotQueued} (hot chat, queued) / 0`, unsent === hotQueued && deadReplies === 0]);
  print(['updates with their reply delivered', withReply, `= ${expectedHandled - hotQueued}`, withReply === expectedHandled - hotQueued]);
  print(['duplicate replies', duplicates, `<= ${bound} (${maxInFlight} in flight x ${p.disruptions}${p.extraLabel ? ` + ${p.extraLabel}` : ''})`, duplicates >= 0 && duplicates <= bound]);
  print(['rate-limit violations at the fake', b.limited, '= 0', b.limited === 0]);
  const busiest = busiestSecond(b.attempts);
  print(['most sends arriving in any 1 s', busiest.count, `informational (limit ${sendRate})${busiest.at ? `, to ${clock(busiest.at)}` : ''}`, null]);
  for (const row of p.rows) print(row);
  for (const line of p.details) console.log(`  ${line}`);
  // Each send the fake refused for a limit, with the calls to its chat in the 2 s before it and the phase's events.
  for (const c of b.limitedCalls) {
    const before = (callsByChat.get(c.chat_id) ?? []).filter((o) => o.t < c.t && o.t > c.t - 2000 && o.delivered);
    console.log(`  limit: ${clock(c.t)} chat ${c.chat_id} reply to ${c.body?.reply_parameters?.message_id}: ${c.description}; delivered to it before: ${
      before.map((o) => `${clock(o.t)} (reply to ${o.body?.reply_parameters?.message_id})`).join(', ') || 'none'}`);
  }
  if (b.limitedCalls.length > 0) console.log(`  events: ${p.events.map(([t, e]) => `${clock(t)} ${e}`).join('; ')}`);
}
console.log('');
console.log(`whole run: ${totalPosted} updates over ${phaseDefs.filter((d) => !d.skipped).length} phases in ${seconds(Date.now() - drillStarted)}; UPDATES=${updates} RATE=${rate} SEND_RATE=${sendRate} MAX_IN_FLIGHT=${maxInFlight}`);
header();
print(['webhook requests (incl. retries)', attempts, `retries: ${JSON.stringify(failures)}`, null]);
print([`stored, all phases (on the ${dbDir === env.SB_DIR ? 'promoted standby' : 'primary'})`, totalStored, `= ${totalPosted}`, totalStored === totalPosted]);
print(['duplicate replies, all phases', totalDuplicates, 'bounded per phase above', null]);
print(['429s / rate-limit violations at the fake', `${stats.too_many_requests} / ${stats.rate_limit_violations}`, 'violations = 0', stats.rate_limit_violations === 0]);
print(['max sends in any 1 s at the fake', stats.max_global_rate_per_second, `<= ${sendRate}`, stats.max_global_rate_per_second <= sendRate]);
{
  // Where the busiest second was, and every call the fake refused for a limit outside the phases' chats.
  const busiest = busiestSecond(calls.map((c) => c.t));
  const phaseAt = phaseDefs.find((d) => !d.skipped && busiest.at !== null && d.startedAt <= busiest.at && busiest.at <= d.endedAt);
  if (busiest.at !== null) console.log(`  busiest second of sendMessage: ${busiest.count} calls to ${clock(busiest.at)}${phaseAt ? `, in phase ${phaseAt.key}` : ', between phases'}`);
  for (const c of calls.filter((o) => o.rate_limited && phaseOfChat(o.chat_id) < 0)) {
    console.log(`  limit: ${clock(c.t)} chat ${c.chat_id} (no phase's chat): ${c.description}`);
  }
}
print(['unexpected process exits', crashes.length, '= 0', crashes.length === 0]);
print(['replicas alive at the end', survivors, '= 2', survivors === 2]);
for (const crash of crashes) console.log(`crash: ${crash}`);
if (failed > 0) {
  for (const file of [...bots.map((b) => b.log), `${work}/fake.log`]) {
    const last = readLog(file).split('\n').filter(Boolean).slice(-8);
    if (last.length === 0) continue;
    console.log(`chaos: last lines of ${file.slice(work.length + 1)}:`);
    console.log(last.map((l) => `  ${l.slice(0, 400)}`).join('\n'));
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
