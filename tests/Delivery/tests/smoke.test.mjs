// The staging smoke (tests/Load/smoke.js) and what decides whether it can pass: its options type-check against
// k6's own declarations, and it runs (under node, tests/Delivery/k6-node) against a stand-in for staging's
// ingress that enforces the chart's per-address limits the way ingress-nginx's limit_req does. The profile the
// smoke replaced (ingest.js at 500 requests/s with a 20 ms p99) fails against the same stand-in, and a staging
// that answers with errors stops the smoke early through abortOnFail; each run leaves its JUnit report.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { chartDir, deliveryDir, loadYamlFile, repoRoot } from "./lib.mjs";
import { junit, thresholdResults } from "../../Load/lib/summary.js";

const runner = path.join(deliveryDir, "k6-node/run.mjs");
const secret = "smoke-test-webhook-secret";
const limits = { ...loadYamlFile(path.join(chartDir, "values.yaml")).ingress.rateLimit, ...(loadYamlFile(path.join(chartDir, "values-staging.yaml")).ingress?.rateLimit ?? {}) };

/**
 * Staging's edge: per client address, ingress-nginx's limit_req (rate `rps`, burst rps × burstMultiplier, nodelay:
 * beyond the burst a request is refused with 503) and limit_conn (concurrent connections); behind it the bot's
 * webhook as the smoke sees it (401 on a wrong secret, 400 on a body without update_id, else 200).
 */
async function startIngress({ upstreamStatus = 200 } = {}) {
  const seen = { webhook: 0, limited: 0, unauthorized: 0, ids: new Map() };
  const buckets = new Map();
  let open = 0;
  const server = http.createServer((req, res) => {
    const address = req.socket.remoteAddress;
    const now = performance.now();
    const bucket = buckets.get(address) ?? { excess: 0, at: now };
    const excess = Math.max(0, bucket.excess - ((now - bucket.at) / 1000) * limits.rps) + 1;
    if (excess > limits.rps * limits.burstMultiplier || open >= limits.connections) {
      seen.limited++;
      res.writeHead(503).end("limited");
      return;
    }
    buckets.set(address, { excess, at: now });
    open++;
    res.on("close", () => open--);
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url !== "/telegram/webhook" || req.method !== "POST") return res.writeHead(404).end();
      if (req.headers["x-telegram-bot-api-secret-token"] !== secret) {
        seen.unauthorized++;
        return res.writeHead(401).end();
      }
      let update;
      try {
        update = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return res.writeHead(400).end();
      }
      if (!Number.isInteger(update.update_id)) return res.writeHead(400).end();
      seen.webhook++;
      seen.ids.set(update.update_id, (seen.ids.get(update.update_id) ?? 0) + 1);
      res.writeHead(upstreamStatus).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function runK6(script, env) {
  const dir = mkdtempSync(path.join(tmpdir(), "bot-k6-"));
  const args = [runner, path.join(repoRoot, script), ...Object.entries({ SUMMARY_DIR: dir, ...env }).flatMap(([name, value]) => ["-e", `${name}=${value}`])];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const began = performance.now();
  const [code] = await once(child, "exit");
  const read = (name) => {
    try {
      return readFileSync(path.join(dir, name), "utf8");
    } catch {
      return null;
    }
  };
  const result = { code, output, seconds: (performance.now() - began) / 1000, junit: read("smoke-junit.xml"), summary: read("smoke-summary.json") };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

const testCases = (xml) => [...xml.matchAll(/<testcase [^>]*name="([^"]*)"[^>]*>(.*?)<\/testcase>/g)].map((m) => ({ name: m[1], failed: m[2].includes("<failure") }));

test("the smoke's options and the ingest profile type-check against k6's declarations (@types/k6)", () => {
  const tsc = path.join(deliveryDir, "node_modules/typescript/bin/tsc");
  const ok = spawnSync(process.execPath, [tsc, "-p", path.join(deliveryDir, "k6-types.tsconfig.json")], { encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  // The check can fail: options k6 refuses (an unknown executor, a rate as text) do not type-check.
  const dir = mkdtempSync(path.join(tmpdir(), "bot-k6-types-"));
  try {
    const config = JSON.parse(readFileSync(path.join(deliveryDir, "k6-types.tsconfig.json"), "utf8"));
    config.compilerOptions.typeRoots = [path.join(deliveryDir, "node_modules/@types")];
    config.files = [path.join(deliveryDir, "fixtures/invalid/k6-options.js")];
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(config));
    const bad = spawnSync(process.execPath, [tsc, "-p", path.join(dir, "tsconfig.json")], { encoding: "utf8" });
    assert.notEqual(bad.status, 0, "invalid options type-check");
    assert.match(bad.stdout, /constant-arrival/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the pipeline's smoke job runs smoke.js and reports its JUnit file", () => {
  const pipeline = readFileSync(path.join(repoRoot, ".gitlab-ci.yml"), "utf8");
  assert.match(pipeline, /tests\/Load\/smoke\.js/);
  assert.doesNotMatch(pipeline, /tests\/Load\/ingest\.js/, "the 500/s profile is a load test, not a smoke");
});

test("the smoke profile passes through staging's ingress limits, 30 s at a few requests per second", async () => {
  const ingress = await startIngress();
  try {
    const run = await runK6("tests/Load/smoke.js", { BASE_URL: ingress.url, WEBHOOK_SECRET: secret });
    assert.equal(run.code, 0, run.output);
    assert.ok(run.seconds >= 29 && run.seconds < 45, `ran ${run.seconds} s`);
    assert.equal(ingress.seen.limited, 0, "nothing refused by the ingress's limits");
    assert.ok(ingress.seen.webhook >= 140 && ingress.seen.webhook <= 160, `${ingress.seen.webhook} webhook requests (5/s for 30 s)`);
    assert.equal([...ingress.seen.ids.values()].filter((count) => count === 2).length, 1, "one update delivered twice");
    assert.equal(ingress.seen.unauthorized, 1, "one request with a wrong secret");
    const cases = testCases(run.junit);
    assert.equal(cases.length, 6, run.junit);
    assert.deepEqual(cases.filter((c) => c.failed), []);
    assert.match(run.output, /smoke: all thresholds held/);
    assert.ok(JSON.parse(run.summary).metrics["http_req_duration{name:webhook}"].values["p(99)"] < 1500);
  } finally {
    await ingress.close();
  }
});

test("the old smoke (ingest.js at 500 requests/s, p99 20 ms) fails against the same limits", async () => {
  const ingress = await startIngress();
  try {
    const run = await runK6("tests/Load/ingest.js", { BASE_URL: ingress.url, WEBHOOK_SECRET: secret, DURATION: "4s" });
    assert.equal(run.code, 99, run.output);
    assert.ok(ingress.seen.limited > 0, "the ingress refused part of it");
  } finally {
    await ingress.close();
  }
});

test("a staging that answers with errors stops the smoke early (abortOnFail) with the failure in its JUnit report", async () => {
  const ingress = await startIngress({ upstreamStatus: 503 });
  try {
    const run = await runK6("tests/Load/smoke.js", { BASE_URL: ingress.url, WEBHOOK_SECRET: secret });
    assert.equal(run.code, 99, run.output);
    assert.ok(run.seconds < 20, `stopped after ${run.seconds} s, not at the end of 30 s`);
    assert.match(run.output, /stopped early: threshold http_req_failed rate<0\.01/);
    const failed = testCases(run.junit).filter((c) => c.failed).map((c) => c.name);
    assert.ok(failed.includes("http_req_failed rate&lt;0.01"), failed.join(", "));
  } finally {
    await ingress.close();
  }
});

test("the JUnit report has one case per threshold, a failure for each threshold that failed, escaped", () => {
  const data = {
    state: { testRunDurationMs: 1500 },
    metrics: {
      http_req_failed: { type: "rate", values: { rate: 0.5 }, thresholds: { "rate<0.01": { ok: false } } },
      "http_req_duration{name:webhook}": { type: "trend", values: { "p(95)": 12 }, thresholds: { "p(95)<500": { ok: true }, "p(99)<1500": { ok: true } } },
      http_reqs: { type: "counter", values: { count: 4, rate: 2 } },
    },
  };
  assert.equal(thresholdResults(data).length, 3);
  const xml = junit(data, "smoke");
  assert.match(xml, /<testsuite name="smoke" tests="3" failures="1" errors="0" time="1.5">/);
  assert.match(xml, /<testcase classname="smoke" name="http_req_failed rate&lt;0.01"><failure message="threshold rate&lt;0.01 failed">rate=0.5<\/failure><\/testcase>/);
  assert.match(xml, /name="http_req_duration\{name:webhook\} p\(95\)&lt;500"><\/testcase>/);
});
