// A headless Chromium page driven by JSON lines on stdin, one answer line per command on stdout:
//   {"id":1,"op":"goto","url":"http://127.0.0.1:5000/app/#tgWebAppData=..."}  ->  {"id":1,"ok":true}
// Ops: goto(url) | waitFor(selector, timeout?, state?) | click(selector) | fill(selector, value) | select(selector, value)
//      | check(selector, checked) | text(selector) | attr(selector, name) | attrs(selector, name) | count(selector)
//      | screenshot(path) | problems() (console errors, failed requests and CSP violations so far) | close().
// The browser is Debian's chromium (CHROMIUM, else /usr/bin/chromium); the page is a phone-sized viewport. Every
// error is an answer {"ok":false,"error":...}, never a crash, so the test that drives it reports what went wrong.
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
const context = await browser.newContext({ viewport: { width: 400, height: 820 }, deviceScaleFactor: 1 });
const page = await context.newPage();
const problems = [];
page.on('console', (message) => {
  if (message.type() === 'error') problems.push(`console: ${message.text()}`);
});
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
// CSP violations reach the page as events; the console also reports them, this names the directive.
await context.addInitScript(() => {
  document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
});

const ops = {
  goto: async ({ url }) => { await page.goto(url, { waitUntil: 'load' }); },
  waitFor: async ({ selector, timeout = 15000, state = 'attached' }) => { await page.waitForSelector(selector, { timeout, state }); },
  click: async ({ selector }) => { await page.click(selector, { timeout: 10000 }); },
  fill: async ({ selector, value }) => { await page.fill(selector, value, { timeout: 10000 }); },
  select: async ({ selector, value }) => { await page.selectOption(selector, value, { timeout: 10000 }); },
  check: async ({ selector, checked = true }) => { await page.setChecked(selector, checked, { timeout: 10000 }); },
  text: async ({ selector }) => page.textContent(selector, { timeout: 10000 }),
  attr: async ({ selector, name }) => page.getAttribute(selector, name, { timeout: 10000 }),
  attrs: async ({ selector, name }) => page.$$eval(selector, (elements, n) => elements.map((e) => e.getAttribute(n)), name),
  count: async ({ selector }) => (await page.$$(selector)).length,
  screenshot: async ({ path }) => {
    mkdirSync(dirname(path), { recursive: true });
    await page.screenshot({ path, fullPage: true });
  },
  problems: async () => problems.splice(0),
  close: async () => { await browser.close(); process.exit(0); },
};

const lines = createInterface({ input: process.stdin });
const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
answer({ id: 0, ok: true, ready: true });
for await (const line of lines) {
  if (!line.trim()) continue;
  let command;
  try {
    command = JSON.parse(line);
  } catch {
    answer({ id: null, ok: false, error: 'not JSON' });
    continue;
  }

  const op = ops[command.op];
  if (!op) {
    answer({ id: command.id, ok: false, error: `unknown op ${command.op}` });
    continue;
  }

  try {
    const value = await op(command);
    answer({ id: command.id, ok: true, value: value ?? null });
  } catch (error) {
    answer({ id: command.id, ok: false, error: String(error?.message ?? error).split('\n')[0] });
  }
}

await browser.close();
