// The hostile input corpus: raw HTTP/1.1 over loopback against a running bot (started by run.sh), one line
// per case, then the invariants (process alive, /healthz 200, the inbox holds exactly the accepted updates,
// byte for byte, no broadcast created), ending with "N passed, N failed". Environment: PUBLIC_PORT, INTERNAL_PORT,
// WEBHOOK_SECRET, PG_DIR (the cluster of scripts/pg.sh), BOT_PID, BOT_LOG (the bot's output), ADMIN_TOKEN and
// ADMIN_READ_TOKEN (the admin API's write and read tokens).
import fs from 'node:fs';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';

const port = Number(process.env.PUBLIC_PORT);
const internalPort = Number(process.env.INTERNAL_PORT);
const secret = process.env.WEBHOOK_SECRET;
const pgDir = process.env.PG_DIR;
const botPid = Number(process.env.BOT_PID);
const botLog = process.env.BOT_LOG;
const adminToken = process.env.ADMIN_TOKEN;
const readToken = process.env.ADMIN_READ_TOKEN;
if (!port || !internalPort || !secret || !pgDir || !botPid || !botLog || !adminToken || !readToken) {
  console.log('corpus: PUBLIC_PORT, INTERNAL_PORT, WEBHOOK_SECRET, PG_DIR, BOT_PID, BOT_LOG, ADMIN_TOKEN and ADMIN_READ_TOKEN are required');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const psql = (sql) => execFileSync('scripts/pg.sh', ['psql', pgDir, '-Atc', sql], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();

/**
 * Writes `head` and then each of `chunks` (after `delayMs` each) on a fresh connection; resolves when the server
 * closes or `timeoutMs` passes: { status (null: none), retryAfter, cut (closed without an answer), timedOut, ms }.
 */
function exchange(targetPort, head, chunks = [], { delayMs = 0, timeoutMs = 20000 } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(targetPort, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    let timedOut = false;
    let answeredAt = null;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const retry = /\r\nretry-after: *(\S+)/i.exec(text);
      resolve({
        status: match ? Number(match[1]) : null,
        retryAfter: retry ? retry[1] : null,
        cut: !match && !timedOut,
        timedOut,
        ms: (answeredAt ?? Date.now()) - started,
        text,
      });
    };
    const timer = setTimeout(() => { timedOut = true; finish(); }, timeoutMs);
    socket.on('data', (chunk) => {
      answeredAt ??= Date.now();
      data = Buffer.concat([data, chunk]);
    });
    socket.on('error', () => {}); // a reset while writing still leaves what was read; 'close' follows
    socket.on('close', finish);
    socket.on('connect', async () => {
      socket.write(head);
      for (const chunk of chunks) {
        if (done || socket.destroyed) return;
        if (delayMs) await sleep(delayMs);
        if (done || socket.destroyed) return;
        socket.write(chunk);
      }
    });
  });
}

const CRLF = '\r\n';

/** A webhook request: body a string or Buffer; null header values are left out. */
function request({ method = 'POST', path = '/telegram/webhook', body = '', secretHeader = secret,
  contentType = 'application/json', chunked = false, contentLength, extra = [] } = {}) {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  if (secretHeader !== null) lines.push(`X-Telegram-Bot-Api-Secret-Token: ${secretHeader}`);
  if (contentType !== null) lines.push(`Content-Type: ${contentType}`);
  if (chunked) lines.push('Transfer-Encoding: chunked');
  else lines.push(`Content-Length: ${contentLength ?? payload.length}`);
  lines.push(...extra);
  const head = Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1');
  if (!chunked) return { head, chunks: payload.length ? [payload] : [] };
  const chunks = [];
  for (let i = 0; i < payload.length; i += 65536) {
    const part = payload.subarray(i, i + 65536);
    chunks.push(Buffer.concat([Buffer.from(part.length.toString(16) + CRLF), part, Buffer.from(CRLF)]));
  }
  chunks.push(Buffer.from('0' + CRLF + CRLF));
  return { head, chunks: [Buffer.concat(chunks)] };
}

async function send(options, exchangeOptions) {
  const { head, chunks } = request(options);
  return exchange(port, head, chunks, exchangeOptions);
}

// Updates: ids from a base no other run uses in this database; every case gets its own id.
let nextId = 710_000_000;
const newId = () => ++nextId;
const message = (id, text = 'hello', extra = {}) => JSON.stringify({
  update_id: id,
  message: {
    message_id: id % 1_000_000, date: 1764400000, text,
    chat: { id: 4242, type: 'private', first_name: 'Hostile' },
    from: { id: 4242, is_bot: false, first_name: 'Hostile' },
    ...extra,
  },
});

const accepted = new Map(); // update_id -> exact bytes the inbox must hold
const rejected = new Set(); // update_ids that must not be in the inbox
let passed = 0;
let failed = 0;

function report(name, ok, detail) {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name.padEnd(58)} ${detail}`);
}

const describe = (r) => r.status !== null ? `${r.status} in ${r.ms} ms`
  : r.timedOut ? `no answer after ${r.ms} ms` : `connection cut after ${r.ms} ms`;

/** Sends a webhook request and expects `status`; a 200 records the id as accepted (first body wins), others as rejected. */
async function expectStatus(name, status, options, { id, exchangeOptions } = {}) {
  const result = await send(options, exchangeOptions);
  const ok = result.status === status;
  report(name, ok, `${describe(result)} (want ${status})`);
  if (id !== undefined) {
    if (ok && status === 200) {
      if (!accepted.has(id)) accepted.set(id, Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, 'utf8'));
    } else if (!accepted.has(id)) {
      rejected.add(id);
    }
  }
  return result;
}

/** A rejected case: its id, if it has one, must never reach the inbox. */
function rejectCase(name, status, bodyFor, options = {}) {
  const id = newId();
  return expectStatus(name, status, { ...options, body: bodyFor(id) }, { id });
}

function nested(depth) {
  return '['.repeat(depth) + ']'.repeat(depth);
}

// ---- slow clients first, so that every other case runs while they hold connections open ----
const slowBodyId = newId();
rejected.add(slowBodyId);
const slowBody = (() => {
  const body = Buffer.from(message(slowBodyId), 'utf8');
  // Headers at once, then the body one byte a second: far below Kestrel's minimum body rate (240 B/s after a
  // 5 s grace period). Expected: 408 or the connection cut, well before the body could complete.
  const { head } = request({ body });
  return exchange(port, head, [...body].map((b) => Buffer.from([b])), { delayMs: 1000, timeoutMs: 40000 });
})();
const slowHeaders = (() => {
  // The request line and headers one byte a second: Kestrel's RequestHeadersTimeout (30 s) applies.
  const { head } = request({ body: message(newId()) });
  return exchange(port, Buffer.alloc(0), [...head].map((b) => Buffer.from([b])), { delayMs: 1000, timeoutMs: 60000 });
})();
const crowd = Array.from({ length: 50 }, () => {
  const id = newId();
  rejected.add(id);
  const body = Buffer.from(message(id), 'utf8');
  const { head } = request({ body });
  return exchange(port, head, [...body.subarray(0, 20)].map((b) => Buffer.from([b])), { delayMs: 1000, timeoutMs: 40000 });
});
await sleep(300);

// ---- accepted: valid updates, duplicates, unknown kinds, odd but valid text ----
{
  const id = newId();
  await expectStatus('valid message', 200, { body: message(id) }, { id });
  await expectStatus('same update again (duplicate update_id)', 200, { body: message(id) }, { id });
  // A retry whose body differs keeps the first row as it was.
  await expectStatus('duplicate update_id, different body', 200, { body: message(id, 'changed') }, { id });
  const during = await send({ body: message(newId()) });
  report('valid update answered while 51 slow clients hang', during.status === 200 && during.ms < 3000,
    `${describe(during)} (want 200 within 3 s)`);
  if (during.status === 200) accepted.set(nextId, Buffer.from(message(nextId), 'utf8'));
}
await expectStatus('unknown update kind (future_kind)', 200,
  { body: `{"update_id":${newId()},"future_kind":{"id":1,"x":[1,2,3]}}` }, { id: nextId });
await expectStatus('callback_query', 200, {
  body: JSON.stringify({ update_id: newId(), callback_query: { id: 'cb1', chat_instance: 'ci', data: 'x',
    from: { id: 4243, is_bot: false, first_name: 'H' } } }),
}, { id: nextId });
await expectStatus('chat_join_request', 200, {
  body: JSON.stringify({ update_id: newId(), chat_join_request: { chat: { id: -1001, type: 'supergroup', title: 'G' },
    from: { id: 4244, is_bot: false, first_name: 'J' }, user_chat_id: 4244, date: 1764400000 } }),
}, { id: nextId });
await expectStatus('emoji, ZWJ sequence, RTL text and overrides', 200,
  { body: message(newId(), 'שלום عليكم \u202Eevil\u202C 👩‍👩‍👧‍👦 🇺🇦 e\u0301') }, { id: nextId });
await expectStatus('escaped \\u0000 in text (jsonb would refuse it)', 200,
  { body: `{"update_id":${newId()},"message":{"message_id":1,"date":1764400000,"chat":{"id":4242,"type":"private"},"text":"a\\u0000b"}}` },
  { id: nextId });
await expectStatus('escaped valid surrogate pair', 200,
  { body: message(newId(), 'x').replace('"text":"x"', '"text":"\\ud83d\\ude00"') }, { id: nextId });
await expectStatus('moderately nested unknown field (depth 32)', 200,
  { body: message(newId(), 'x', { extra: JSON.parse(nested(32)) }) }, { id: nextId });
await expectStatus('Content-Type with charset=UTF-8', 200,
  { body: message(newId()), contentType: 'application/json; charset=UTF-8' }, { id: nextId });
await expectStatus('Content-Type in capitals', 200, { body: message(newId()), contentType: 'APPLICATION/JSON' }, { id: nextId });
await expectStatus('chunked body under the limit', 200, { body: message(newId()), chunked: true }, { id: nextId });
{
  const id = newId();
  const pad = 1024 * 1024 - 400;
  await expectStatus('body just under 1 MiB', 200, { body: message(id, 'x', { pad: 'p'.repeat(pad) }) }, { id });
}
await expectStatus('update_id at int32 max', 200, { body: message(2147483647) }, { id: 2147483647 });

// ---- 400: malformed, truncated, wrong types, huge numbers, deep nesting, bad UTF-8 ----
await rejectCase('empty body', 400, () => '');
await rejectCase('truncated JSON', 400, (id) => message(id).slice(0, 60));
await rejectCase('truncated JSON (last brace missing)', 400, (id) => message(id).slice(0, -1));
await rejectCase('not JSON at all', 400, () => 'update_id=1&text=hi');
await rejectCase('unquoted property names', 400, (id) => `{update_id:${id}}`);
await rejectCase('trailing garbage after the object', 400, (id) => message(id) + ' xyz');
await rejectCase('two objects back to back', 400, (id) => message(id) + message(id));
await rejectCase('top-level array', 400, (id) => `[${message(id)}]`);
await rejectCase('top-level null', 400, () => 'null');
await rejectCase('top-level string', 400, () => '"update"');
await rejectCase('empty object (no update_id)', 400, () => '{}');
await rejectCase('update_id 0', 400, () => message(0));
await rejectCase('negative update_id', 400, (id) => message(-id));
await rejectCase('update_id as a word', 400, () => '{"update_id":"abc","message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"}}}');
{
  // Telegram.Bot's serializer options read numbers from strings (JsonNumberHandling.AllowReadingFromString), and
  // the bot parses with them on ingest and when handling: such an update is a well-formed update with that id.
  const id = newId();
  await expectStatus('update_id as a numeric string (read as the number)', 200, { body: message(id).replace(`"update_id":${id}`, `"update_id":"${id}"`) }, { id });
}
await rejectCase('update_id fractional', 400, (id) => `{"update_id":${id}.5}`);
await rejectCase('update_id boolean', 400, () => '{"update_id":true}');
await rejectCase('update_id null', 400, () => '{"update_id":null}');
await rejectCase('message is a string', 400, (id) => `{"update_id":${id},"message":"hello"}`);
await rejectCase('chat.id is a string', 400, (id) => message(id).replace('"id":4242,"type"', '"id":"x","type"'));
await rejectCase('text is an object', 400, (id) => message(id).replace('"text":"hello"', '"text":{"a":1}'));
await rejectCase('date is a string', 400, (id) => message(id).replace('"date":1764400000', '"date":"yesterday"'));
await rejectCase('update_id above int32 (2^31)', 400, () => message(2147483648));
await rejectCase('update_id 2^63', 400, () => '{"update_id":9223372036854775808}');
await rejectCase('update_id 1e400', 400, () => '{"update_id":1e400}');
await rejectCase('update_id with 400 digits', 400, () => `{"update_id":${'9'.repeat(400)}}`);
await rejectCase('chat.id 1e30', 400, (id) => message(id).replace('"id":4242,"type"', '"id":1e30,"type"'));
await rejectCase('message_id 2^64', 400, (id) => message(id).replace(/"message_id":\d+/, '"message_id":18446744073709551616'));
await rejectCase('nested 100 deep in an unknown field', 400, (id) => message(id).replace('"text"', `"x":${nested(100)},"text"`));
await rejectCase('nested 100000 deep', 400, () => `{"update_id":1,"x":${nested(100000)}}`);
await rejectCase('nested objects 5000 deep', 400, (id) => `{"update_id":${id},"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`);
await rejectCase('lone high surrogate escaped (\\ud800)', 400, (id) => message(id).replace('"text":"hello"', '"text":"a\\ud800b"'));
await rejectCase('lone low surrogate escaped (\\udc00)', 400, (id) => message(id).replace('"text":"hello"', '"text":"\\udc00"'));
await rejectCase('raw NUL byte inside a string', 400, (id) => message(id).replace('hello', 'he\u0000llo'));
await rejectCase('raw control character in a string', 400, (id) => message(id).replace('hello', 'he\u0007llo'));
const bytes = (id, inject) => Buffer.concat([Buffer.from(message(id).split('hello')[0] + 'he'), Buffer.from(inject),
  Buffer.from('llo' + message(id).split('hello')[1])]);
await rejectCase('invalid UTF-8 (C3 28)', 400, (id) => bytes(id, [0xc3, 0x28]));
await rejectCase('overlong UTF-8 "/" (C0 AF)', 400, (id) => bytes(id, [0xc0, 0xaf]));
await rejectCase('overlong UTF-8 NUL (C0 80)', 400, (id) => bytes(id, [0xc0, 0x80]));
await rejectCase('UTF-8-encoded surrogate (ED A0 80)', 400, (id) => bytes(id, [0xed, 0xa0, 0x80]));
await rejectCase('truncated UTF-8 sequence (F0 9F 98)', 400, (id) => bytes(id, [0xf0, 0x9f, 0x98]));
await rejectCase('code point above U+10FFFF (F4 90 80 80)', 400, (id) => bytes(id, [0xf4, 0x90, 0x80, 0x80]));
await rejectCase('Latin-1 bytes (E9)', 400, (id) => bytes(id, [0xe9]));

// ---- 413: too large, declared and chunked ----
const big = (id) => message(id, 'x', { pad: 'p'.repeat(10 * 1024 * 1024) });
await rejectCase('10 MB body, Content-Length declared', 413, big);
await rejectCase('10 MB body, chunked', 413, big, { chunked: true });
await rejectCase('1 MiB + 1 byte, chunked', 413, (id) => {
  const body = message(id, 'x', { pad: '' });
  return body.replace('"pad":""', `"pad":"${'p'.repeat(1024 * 1024 + 1 - body.length)}"`);
}, { chunked: true });
{
  // Declares 10 MB and sends nothing: refused from the header alone.
  const r = await send({ body: '', contentLength: 10 * 1024 * 1024 }, { timeoutMs: 10000 });
  report('10 MB declared, body never sent', r.status === 413, `${describe(r)} (want 413)`);
}

// ---- 415: not JSON ----
await rejectCase('Content-Type text/plain', 415, (id) => message(id), { contentType: 'text/plain' });
await rejectCase('no Content-Type', 415, (id) => message(id), { contentType: null });
await rejectCase('form-urlencoded', 415, (id) => message(id), { contentType: 'application/x-www-form-urlencoded' });
await rejectCase('application/json; charset=iso-8859-1', 415, (id) => message(id), { contentType: 'application/json; charset=iso-8859-1' });
await rejectCase('application/jsonx', 415, (id) => message(id), { contentType: 'application/jsonx' });
await rejectCase('garbage Content-Type', 415, (id) => message(id), { contentType: ';;;/' });

// ---- 401: missing or wrong secret (checked before anything else) ----
await rejectCase('no secret header', 401, (id) => message(id), { secretHeader: null });
await rejectCase('empty secret', 401, (id) => message(id), { secretHeader: '' });
await rejectCase('wrong secret', 401, (id) => message(id), { secretHeader: 'not-the-secret' });
await rejectCase('secret off by its last character', 401, (id) => message(id), { secretHeader: secret.slice(0, -1) + 'X' });
await rejectCase('secret prefix only', 401, (id) => message(id), { secretHeader: secret.slice(0, 10) });
await rejectCase('secret twice over', 401, (id) => message(id), { secretHeader: secret + secret });
await rejectCase('right and wrong secret headers together', 401, (id) => message(id),
  { extra: ['X-Telegram-Bot-Api-Secret-Token: wrong'] });
await rejectCase('wrong secret with a 10 MB body', 401, big, { secretHeader: 'nope' });

// ---- other surfaces: nothing else answers on the public port ----
await rejectCase('GET on the webhook path', 405, () => '', { method: 'GET' });
await rejectCase('POST on another path', 404, (id) => message(id), { path: '/telegram/webhook2' });
{
  // The Discord callback is the public port's other route: whatever the spelling, with a state the bot never issued
  // (or none, or two), it answers 400 (flag on) or 404 (flag off), never links anything or fails.
  const forged = 'A'.repeat(43);
  const bad = [];
  let tried = 0;
  for (const path of ['/discord/callback', '/DISCORD/CALLBACK', '/discord/callback/', '/discord//callback', '/discord/%63allback', '/discord/callback;x=1']) {
    for (const query of [`?code=x&state=${forged}`, `?state=${forged}`, `?code=x&state=${forged}&state=${forged}`, "?code=x&state='%3B--", '', `?code=${'c'.repeat(5000)}&state=${forged}`]) {
      const { head, chunks } = request({ method: 'GET', path: path + query, secretHeader: null, contentType: null });
      const r = await exchange(port, head, chunks);
      tried++;
      if (![400, 404].includes(r.status)) bad.push(`${path}${query.slice(0, 40)}: ${describe(r)}`);
    }
  }
  report('Discord callback, every spelling, forged, missing or doubled state: 400 or 404', bad.length === 0, `${tried} requests; ${bad.slice(0, 3).join('; ') || 'all refused'}`);
}
{
  // The admin Mini App's API, the public port's third surface: whatever the spelling, a call without Telegram's
  // signed initData (none, the admin API's token, a forged or expired one) is 401 or 404, a signed one of a user who
  // administers nothing 403 or 404; never an answer, never a failure. Its pages serve nothing but their own files.
  const sign = (fields, token) => {
    const key = createHmac('sha256', 'WebAppData').update(token).digest();
    const check = Object.keys(fields).sort().map((k) => `${k}=${fields[k]}`).join('\n');
    const hash = createHmac('sha256', key).update(check).digest('hex');
    return Object.entries(fields).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&') + `&hash=${hash}`;
  };
  const token = process.env.Telegram__BotToken;
  const now = Math.floor(Date.now() / 1000);
  const user = JSON.stringify({ id: 4242, first_name: 'Mallory', language_code: 'en' });
  const valid = sign({ auth_date: String(now), query_id: 'Q', user }, token);
  const unauthenticated = [
    null, `Bearer ${adminToken}`, `tma ${adminToken}`, 'tma garbage', 'tma ', `Bearer ${valid}`,
    `tma ${sign({ auth_date: String(now), user }, token + 'x')}`,
    `tma ${sign({ auth_date: String(now - 2 * 86400), user }, token)}`,
    `tma ${valid.replace('Mallory', 'Mall0ry')}`,
    `tma ${valid}&user=${encodeURIComponent(JSON.stringify({ id: 1 }))}`,
  ];
  const routes = [['GET', '/app/api/me'], ['GET', '/app/api/broadcasts'], ['POST', '/app/api/broadcasts'], ['POST', '/app/api/broadcasts/1/send'],
    ['GET', '/app/api/chats/-1001/overview'], ['POST', '/app/api/chats/-1001/queue/1/ban'], ['PUT', '/app/api/chats/-1001/settings']];
  const spell = (path) => [path, path.toUpperCase(), path.replace('/app/api', '/App/Api'), path + '/', path.replace('/api/', '//api/'),
    path.replace('/app/', '/%61pp/'), path + ';x=1'];
  const bad = [];
  let tried = 0;
  for (const [method, path] of routes) {
    for (const target of spell(path)) {
      for (const authorization of [...unauthenticated, `tma ${valid}`, `TMA ${valid}`]) {
        const headers = authorization === null ? [] : [`Authorization: ${authorization}`];
        const body = method === 'GET' ? '' : '{"text":"hostile","audience":{}}';
        const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers];
        if (body) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
        const r = await exchange(port, Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1'), body ? [Buffer.from(body)] : []);
        tried++;
        const signed = authorization?.endsWith(valid) && /^tma /i.test(authorization);
        const allowed = signed ? [403, 404, 405] : [401, 404, 405];
        if (!allowed.includes(r.status)) bad.push(`${method} ${target} ${(authorization ?? 'none').slice(0, 24)}: ${describe(r)}`);
      }
    }
  }
  report('Mini App API, every spelling, every credential but a chat admin\'s: 401, 403 or 404', bad.length === 0, `${tried} requests; ${bad.slice(0, 3).join('; ') || 'all refused'}`);

  const pages = [];
  for (const target of ['/app/%2e%2e/appsettings.json', '/app/..%2Fappsettings.json', '/app/%2e%2e%2fBot', '/app/index.html%00.js', '/app/app.js/x', '/app/.%2e/.%2e/etc/passwd']) {
    const r = await exchange(port, Buffer.from(`GET ${target} HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}Connection: close${CRLF}${CRLF}`, 'latin1'), []);
    if (![400, 404].includes(r.status) || /ConnectionString|root:/.test(r.text)) pages.push(`${target}: ${describe(r)}`);
  }
  const page = await exchange(port, Buffer.from(`GET /app/ HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}Connection: close${CRLF}${CRLF}`, 'latin1'), []);
  const policy = /\r\ncontent-security-policy: *default-src 'none'/i.test(page.text);
  report('Mini App pages: the page with its policy, and nothing outside its files', page.status === 200 && policy && pages.length === 0,
    `${describe(page)}${policy ? '' : ' without its CSP'}; ${pages.slice(0, 3).join('; ') || 'traversals refused'}`);
}
{
  const { head, chunks } = request({ body: message(newId()) });
  rejected.add(nextId);
  const r = await exchange(internalPort, head, chunks);
  report('webhook on the internal port', r.status === 404, `${describe(r)} (want 404)`);
}
{
  const r = await exchange(port, Buffer.from('GARBAGE\r\n\r\n'), []);
  report('not HTTP at all', r.status === 400 || r.cut, `${describe(r)} (want 400 or cut)`);
}
{
  const r = await send({ body: message(newId()), extra: [`X-Filler: ${'f'.repeat(64 * 1024)}`] });
  rejected.add(nextId);
  report('64 KiB header', r.status === 431 || r.status === 400, `${describe(r)} (want 431)`);
}

{
  // Chunked framing that is not chunked framing: Kestrel's parser rejects it while the bot reads the body.
  const id = newId();
  rejected.add(id);
  const { head } = request({ body: message(id), chunked: true });
  const r = await exchange(port, head, [Buffer.from('zz\r\n' + message(id) + '\r\n0\r\n\r\n')]);
  report('malformed chunk size', r.status === 400, `${describe(r)} (want 400)`);
}

// ---- the admin API and the two ports: every spelling of every path, every kind of token ----
{
  const raw = (targetPort, method, target, { token, body = '', headers = [] } = {}) => {
    const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
    if (token !== undefined) lines.push(`Authorization: Bearer ${token}`);
    lines.push(...headers);
    const payload = Buffer.from(body, 'utf8');
    if (method === 'POST' || method === 'PUT') lines.push('Content-Type: application/json', `Content-Length: ${payload.length}`);
    return exchange(targetPort, Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1'), payload.length ? [payload] : []);
  };
  const spellings = (path) => {
    const rest = path.slice('/admin'.length);
    return [path, path.toUpperCase(), '/Admin' + rest, '/aDmIn' + rest.toUpperCase(), path + '/', '/' + path, '/admin/' + rest,
      '/%61dmin' + rest, '/%41%44MIN' + rest, '/admin%2F' + rest.slice(1), '/admin/.' + rest, '/admin/x/..' + rest,
      '/admin/%2e' + rest, path + '?token=' + adminToken, path + ';x=1', 'http://127.0.0.1' + path];
  };
  const routes = [['GET', '/admin/stats'], ['GET', '/admin/join-requests'], ['GET', '/admin/broadcasts'], ['GET', '/admin/broadcasts/1'],
    ['POST', '/admin/broadcasts'], ['POST', '/admin/broadcasts/1/cancel'],
    ['GET', '/admin/gate-settings/-1001000000002'], ['GET', '/admin/gate-settings-audit'],
    ['POST', '/admin/broadcasts/audience-count'], ['POST', '/admin/broadcasts/1/send'], ['POST', '/admin/broadcasts/1/pause'],
    ['POST', '/admin/broadcasts/1/resume'], ['POST', '/admin/broadcasts/1/edit'], ['POST', '/admin/broadcasts/1/withdraw'],
    ['POST', '/admin/broadcasts/1/preview'], ['GET', '/admin/broadcasts/1/deliveries'],
    ['PUT', '/admin/audience-lists/vip'], ['GET', '/admin/audience-lists'], ['GET', '/admin/audience-lists/vip'],
    ['DELETE', '/admin/audience-lists/vip']];
  // Counting an audience is a POST that changes nothing: the read token may.
  const writesSomething = ([method, path]) => method !== 'GET' && path !== '/admin/broadcasts/audience-count';
  const withBody = (method) => method === 'POST' || method === 'PUT';
  const create = JSON.stringify({ fromChatId: 1, messageId: 2 });
  const tokens = [undefined, '', 'wrong-token-wrong-token', adminToken + 'x', adminToken.slice(0, -1), adminToken.toUpperCase()];
  let tried = 0;
  const bad = [];
  for (const [method, path] of routes) {
    for (const target of spellings(path)) {
      for (const token of tokens) {
        const r = await raw(internalPort, method, target, { token, body: withBody(method) ? create : '' });
        tried++;
        // 405: a spelling routing reads as another route's path shape (POST /admin/broadcasts/audience-count;x=1 is
        // GET /admin/broadcasts/{id}'s), answered before authorization; never for the route's own path.
        const refused = [400, 401, 404].includes(r.status) || (r.status === 405 && target !== path);
        if (!refused) bad.push(`${method} ${target} ${token === undefined ? 'no token' : 'bad token'}: ${r.status}`);
      }
    }
  }
  report('admin routes x spellings x wrong tokens: 400/401/404 only (405 for another route\'s shape)', bad.length === 0, `${tried} requests; ${bad.slice(0, 3).join('; ')}`);

  const writes = [];
  for (const [method, path] of routes.filter(writesSomething)) {
    for (const target of spellings(path)) {
      const r = await raw(internalPort, method, target, { token: readToken, body: withBody(method) ? create : '' });
      if (![400, 403, 404].includes(r.status)) writes.push(`${target}: ${r.status}`);
    }
  }
  report('writes with the read token, every spelling: 403 (or no route)', writes.length === 0, writes.slice(0, 3).join('; ') || 'all refused');

  const exposed = [];
  for (const [method, path] of routes) {
    for (const target of [...spellings(path), '/openapi/v1.json', '/healthz', '/readyz', '/HEALTHZ']) {
      const r = await raw(port, method, target, { token: adminToken, body: withBody(method) ? create : '' });
      if (![400, 404].includes(r.status)) exposed.push(`${method} ${target}: ${r.status}`);
    }
    const other = await raw(port, 'DELETE', path, { token: adminToken });
    if (other.status !== 404) exposed.push(`DELETE ${path}: ${other.status}`);
  }
  report('admin, health and OpenAPI on the public port, right token: 404', exposed.length === 0, exposed.slice(0, 3).join('; ') || 'none served');

  const served = [];
  for (const target of ['/telegram/webhook', '/TELEGRAM/WEBHOOK', '/Telegram/Webhook', '/telegram/webhook/', '//telegram/webhook',
    '/%74elegram/webhook', '/telegram%2Fwebhook', '/telegram/./webhook', '/x/../telegram/webhook', '/telegram/webhook?x=1']) {
    const id = newId();
    rejected.add(id);
    const r = await raw(internalPort, 'POST', target, { body: message(id), headers: [`X-Telegram-Bot-Api-Secret-Token: ${secret}`] });
    if (![400, 404].includes(r.status)) served.push(`${target}: ${r.status}`);
  }
  report('webhook on the internal port, every spelling, right secret: 404', served.length === 0, served.slice(0, 3).join('; ') || 'none served');

  const good = await raw(internalPort, 'GET', '/ADMIN/Stats', { token: readToken });
  report('the right token reaches the same route in capitals', good.status === 200, `${describe(good)} (want 200)`);
  const created = psql('SELECT count(*) FROM broadcasts');
  report('no broadcast created by any of it', created === '0', `${created} broadcasts`);
  const lists = psql('SELECT count(*) FROM audience_lists');
  report('no audience list saved by any of it', lists === '0', `${lists} audience list rows`);
}

// ---- request smuggling and other framings on the public port ----
{
  // Content-Length and Transfer-Encoding together (CL.TE / TE.CL): one request is answered at most, and whatever
  // the other framing would have carried is never handled as a request of its own.
  const smuggled = newId();
  rejected.add(smuggled);
  const inner = message(smuggled);
  const innerRequest = `POST /telegram/webhook HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}X-Telegram-Bot-Api-Secret-Token: ${secret}${CRLF}` +
    `Content-Type: application/json${CRLF}Content-Length: ${Buffer.byteLength(inner)}${CRLF}${CRLF}${inner}`;
  const outerId = newId();
  const outer = message(outerId);
  const clte = `POST /telegram/webhook HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}X-Telegram-Bot-Api-Secret-Token: ${secret}${CRLF}` +
    `Content-Type: application/json${CRLF}Content-Length: ${Buffer.byteLength(outer)}${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}` +
    `${Buffer.byteLength(outer).toString(16)}${CRLF}${outer}${CRLF}0${CRLF}${CRLF}${innerRequest}`;
  const r1 = await exchange(port, Buffer.from(clte, 'latin1'), [], { timeoutMs: 8000 });
  const answers1 = (r1.text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length;
  if (r1.status === 200) accepted.set(outerId, Buffer.from(outer, 'utf8')); else rejected.add(outerId);
  report('CL.TE: Content-Length and chunked together', answers1 <= 1 && [200, 400].includes(r1.status ?? 400),
    `${describe(r1)}, ${answers1} answer(s) on the connection (want one at most)`);

  const tecl = `POST /telegram/webhook HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}X-Telegram-Bot-Api-Secret-Token: ${secret}${CRLF}` +
    `Content-Type: application/json${CRLF}Transfer-Encoding: chunked${CRLF}Content-Length: 4${CRLF}${CRLF}` +
    `${Buffer.byteLength(innerRequest).toString(16)}${CRLF}${innerRequest}${CRLF}0${CRLF}${CRLF}`;
  const r2 = await exchange(port, Buffer.from(tecl, 'latin1'), [], { timeoutMs: 8000 });
  const answers2 = (r2.text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length;
  report('TE.CL: a request hidden in the chunked body', answers2 <= 1 && r2.status !== 200,
    `${describe(r2)}, ${answers2} answer(s) (want one refusal at most)`);

  for (const te of ['chunked, identity', 'xchunked', 'chunked\t', 'identity']) {
    const id = newId();
    rejected.add(id);
    const body = message(id);
    const head = `POST /telegram/webhook HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}Connection: close${CRLF}X-Telegram-Bot-Api-Secret-Token: ${secret}${CRLF}` +
      `Content-Type: application/json${CRLF}Transfer-Encoding: ${te}${CRLF}Content-Length: ${Buffer.byteLength(body)}${CRLF}${CRLF}${body}`;
    const r = await exchange(port, Buffer.from(head, 'latin1'), [], { timeoutMs: 8000 });
    report(`Transfer-Encoding: ${JSON.stringify(te)}`, r.status !== 200 && ((r.status ?? 400) >= 400 || r.cut), `${describe(r)} (want a refusal)`);
  }

  // HTTP/2 with prior knowledge (the connection preface, then a SETTINGS frame): HTTP/1.1 only, so no HTTP/2 answer.
  const preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
  const h2 = await exchange(port, preface, [], { timeoutMs: 8000 });
  const spokeH2 = h2.text.length >= 9 && h2.text.charCodeAt(3) === 4 && !h2.text.startsWith('HTTP/');
  report('HTTP/2 prior knowledge on the public port', !spokeH2 && (h2.status === 400 || h2.status === 505 || h2.cut),
    `${describe(h2)} (want 400/505 or cut, never an HTTP/2 SETTINGS frame)`);
  const upgradeId = newId();
  const up = await send({ body: message(upgradeId), extra: ['Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA'] });
  if (up.status === 200) accepted.set(upgradeId, Buffer.from(message(upgradeId), 'utf8')); else rejected.add(upgradeId);
  report('Upgrade: h2c is not honoured', up.status !== 101, `${describe(up)} (want anything but 101)`);
}

// ---- slow clients: cut or 408, the process serving everyone else meanwhile ----
{
  const r = await slowBody;
  report('slow-loris body (1 byte/s)', (r.status === 408 || r.status === 400 || r.cut) && r.ms < 30000,
    `${describe(r)} (want 408/400 or cut within 30 s)`);
  const crowdResults = await Promise.all(crowd);
  const ended = crowdResults.filter((c) => (c.status === 408 || c.status === 400 || c.cut) && c.ms < 30000).length;
  report('50 slow-loris bodies at once', ended === crowd.length,
    `${ended} of ${crowd.length} answered 408/400 or cut within 30 s`);
  const h = await slowHeaders;
  report('slow-loris headers (1 byte/s)', (h.status === 408 || h.status === 400 || h.cut) && h.ms < 50000,
    `${describe(h)} (want 408/400 or cut within 50 s)`);
}

{
  // A client's slowness or garbage is the client's problem: nothing it sends may surface as an application
  // error in the log (an attacker could flood the logs and page whoever watches error rates).
  const errors = fs.readFileSync(botLog, 'utf8').split('\n')
    .filter((line) => /"LogLevel":"(Error|Critical)"|unhandled exception/i.test(line));
  report('no errors logged for anything a client sent', errors.length === 0,
    `${errors.length} error lines${errors.length ? ': ' + errors[0].slice(0, 160) : ''}`);

}

// ---- 503: the database down, then back ----
{
  const port5 = psql('SHOW port');
  const id = newId();
  execFileSync('scripts/pg.sh', ['stop', pgDir]);
  const down = await send({ body: message(id) }, { timeoutMs: 15000 });
  report('database down', down.status === 503 && down.retryAfter !== null,
    `${describe(down)}, Retry-After ${down.retryAfter ?? 'missing'} (want 503 with Retry-After)`);
  execFileSync('scripts/pg.sh', ['start', pgDir, port5], { stdio: 'ignore' });
  // Telegram retries the same update until it is acknowledged.
  let back = null;
  for (let attempt = 0; attempt < 60; attempt++) {
    back = await send({ body: message(id) }, { timeoutMs: 15000 });
    if (back.status === 200) break;
    await sleep(500);
  }
  report('database back: the retried update stored', back.status === 200, `${describe(back)} (want 200)`);
  if (back.status === 200) accepted.set(id, Buffer.from(message(id), 'utf8'));
  else rejected.add(id);
}

// ---- a burst of 1 MiB updates under the memory limit: 200 or 503, never a crash ----
{
  const ids = Array.from({ length: 150 }, () => newId());
  const bodies = ids.map((id) => message(id, 'x', { pad: 'b'.repeat(1024 * 1024 - 400) }));
  const results = await Promise.all(ids.map((id, i) => send({ body: bodies[i] }, { timeoutMs: 60000 })));
  const counts = {};
  results.forEach((r, i) => {
    counts[r.status ?? 'none'] = (counts[r.status ?? 'none'] ?? 0) + 1;
    if (r.status === 200) accepted.set(ids[i], Buffer.from(bodies[i], 'utf8'));
    else rejected.add(ids[i]);
  });
  const only = Object.keys(counts).every((k) => k === '200' || k === '503');
  report('150 concurrent 1 MiB updates under a 144 MiB heap', only && (counts['200'] ?? 0) > 0,
    `${JSON.stringify(counts)} (want 200s and 503s only)`);
}

// ---- invariants ----
{
  let alive = true;
  try { process.kill(botPid, 0); } catch { alive = false; }
  const health = await exchange(internalPort, Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
  report('process alive and /healthz 200 after the corpus', alive && health.status === 200,
    `alive=${alive}, healthz ${describe(health)}`);

  const rows = new Map(psql("SELECT update_id || ' ' || encode(convert_to(payload, 'UTF8'), 'hex') FROM inbox")
    .split('\n').filter(Boolean).map((line) => { const [id, hex] = line.split(' '); return [Number(id), hex]; }));
  const missing = [...accepted.keys()].filter((id) => !rows.has(id));
  const unexpected = [...rows.keys()].filter((id) => !accepted.has(id));
  const leaked = [...rejected].filter((id) => rows.has(id));
  report('inbox holds exactly the accepted updates', missing.length === 0 && unexpected.length === 0 && leaked.length === 0,
    `${rows.size} rows, ${accepted.size} accepted; missing [${missing.slice(0, 5)}], unexpected [${unexpected.slice(0, 5)}], rejected ids stored [${leaked.slice(0, 5)}]`);
  const altered = [...accepted].filter(([id, body]) => rows.has(id) && rows.get(id) !== body.toString('hex')).map(([id]) => id);
  report('stored payloads byte for byte as first received', altered.length === 0, `altered [${altered.slice(0, 5)}]`);
}

// ---- processing on: every accepted update handled or dead-lettered with its reason ----
{
  let open = null;
  for (let i = 0; i < 120; i++) {
    open = psql("SELECT count(*) FROM inbox WHERE state IN ('pending', 'processing')");
    if (open === '0') break;
    await sleep(500);
  }
  const unexplained = psql("SELECT count(*) FROM inbox WHERE state = 'dead' AND coalesce(last_error, '') = ''");
  const dead = psql("SELECT count(*) FROM inbox WHERE state = 'dead'");
  report('every accepted update handled or dead-lettered with a reason', open === '0' && unexplained === '0',
    `${open} still open, ${dead} dead (${unexplained} without a reason)`);
  let alive = true;
  try { process.kill(botPid, 0); } catch { alive = false; }
  const crashes = fs.readFileSync(botLog, 'utf8').split('\n').filter((l) => /Unhandled exception|OutOfMemory|Process terminated/i.test(l));
  report('no worker crashed on any of them', alive && crashes.length === 0, `alive=${alive}, ${crashes.length} crash lines`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
