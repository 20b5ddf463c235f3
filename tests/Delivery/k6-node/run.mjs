#!/usr/bin/env node
// Runs a k6 script under node (see README.md): node run.mjs <script> [-e NAME=VALUE ...]
// Exit codes as k6's: 0 when every threshold held, 99 when one failed (also after an abortOnFail stop), 107 when
// the script threw.
import { register } from "node:module";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const file = args.shift();
if (!file) {
  console.error("usage: node run.mjs <script> [-e NAME=VALUE ...]");
  process.exit(2);
}
const env = { ...process.env };
while (args.length > 0) {
  const flag = args.shift();
  if ((flag === "-e" || flag === "--env") && args.length > 0) {
    const [name, ...value] = args.shift().split("=");
    env[name] = value.join("=");
  } else {
    console.error(`run.mjs: unknown argument ${flag}`);
    process.exit(2);
  }
}
globalThis.__ENV = env;
globalThis.__VU = 1;
globalThis.__ITER = 0;

register("./hooks.mjs", import.meta.url);
const { samples, execution, sleepSeconds } = await import("./state.mjs");
const { parseDuration } = await import("./http.mjs");

let script;
try {
  script = await import(pathToFileURL(path.resolve(file)).href);
} catch (error) {
  console.error(`run.mjs: the script failed to load: ${error?.stack ?? error}`);
  process.exit(107);
}
const options = script.options ?? {};

// --- thresholds -------------------------------------------------------------------------------------------

function parseSelector(key) {
  const match = /^([^{]+)(?:\{(.*)\})?$/.exec(key);
  const tags = Object.fromEntries(
    (match[2] ?? "")
      .split(",")
      .filter(Boolean)
      .map((pair) => pair.split(":").map((part) => part.trim())),
  );
  return { name: match[1].trim(), tags };
}

function pointsOf(key) {
  const { name, tags } = parseSelector(key);
  const metric = samples.get(name);
  const points = (metric?.points ?? []).filter((point) => Object.entries(tags).every(([tag, value]) => point.tags[tag] === value));
  return { metric, points, name };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

function aggregate(type, points, wanted = []) {
  const values = points.map((point) => point.value);
  const seconds = Math.max((Date.now() - runStarted) / 1000, 0.001);
  switch (type) {
    case "trend": {
      const sorted = [...values].sort((a, b) => a - b);
      const result = {
        avg: values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0,
        min: sorted[0] ?? 0,
        med: percentile(sorted, 50),
        max: sorted.at(-1) ?? 0,
        "p(90)": percentile(sorted, 90),
        "p(95)": percentile(sorted, 95),
      };
      for (const name of wanted) {
        const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(name);
        if (p) result[name] = percentile(sorted, Number(p[1]));
      }
      return result;
    }
    case "rate": {
      const passes = values.filter((value) => value !== 0).length;
      return { rate: values.length ? passes / values.length : 0, passes, fails: values.length - passes };
    }
    case "counter": {
      const count = values.reduce((a, b) => a + b, 0);
      return { count, rate: count / seconds };
    }
    default:
      return { value: values.at(-1) ?? 0, min: Math.min(...values, 0), max: Math.max(...values, 0) };
  }
}

const thresholdList = Object.entries(options.thresholds ?? {}).flatMap(([key, list]) =>
  [].concat(list).map((entry) => {
    const spec = typeof entry === "string" ? { threshold: entry } : entry;
    const match = /^\s*([a-z]+(?:\(\d+(?:\.\d+)?\))?)\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(spec.threshold);
    if (!match) {
      console.error(`run.mjs: threshold ${key}: cannot read "${spec.threshold}"`);
      process.exit(107);
    }
    return { key, expression: spec.threshold, stat: match[1], op: match[2], bound: Number(match[3]), abortOnFail: Boolean(spec.abortOnFail), delayMs: parseDuration(spec.delayAbortEval ?? "0s") };
  }),
);

function holds(threshold) {
  const { metric, points } = pointsOf(threshold.key);
  const type = metric?.type ?? (threshold.stat === "rate" ? "rate" : threshold.stat === "count" ? "counter" : "trend");
  const value = aggregate(type, points, [threshold.stat])[threshold.stat] ?? 0;
  const { op, bound } = threshold;
  return { "<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound, "==": value === bound, "===": value === bound, "!=": value !== bound }[op];
}

// --- scenarios on one virtual user ------------------------------------------------------------------------

const scenarios = options.scenarios ?? { default: { executor: "shared-iterations", vus: 1, iterations: options.iterations ?? 1 } };
const plans = Object.entries(scenarios).map(([name, scenario]) => {
  const start = parseDuration(scenario.startTime ?? "0s");
  const fn = script[scenario.exec ?? "default"];
  if (typeof fn !== "function") {
    console.error(`run.mjs: scenario ${name}: no exported function ${scenario.exec ?? "default"}`);
    process.exit(107);
  }
  switch (scenario.executor) {
    case "constant-arrival-rate": {
      const every = parseDuration(scenario.timeUnit ?? "1s") / scenario.rate;
      const end = start + parseDuration(scenario.duration);
      return { name, fn, due: (i) => (start + i * every < end ? start + i * every : null) };
    }
    case "shared-iterations":
    case "per-vu-iterations": {
      const count = scenario.iterations ?? 1;
      return { name, fn, due: (i) => (i < count ? start : null) };
    }
    case "constant-vus": {
      const end = start + parseDuration(scenario.duration);
      return { name, fn, due: () => (Date.now() - runStarted < end ? Math.max(start, Date.now() - runStarted) : null) };
    }
    default:
      console.error(`run.mjs: scenario ${name}: executor ${scenario.executor} is not supported here`);
      process.exit(107);
  }
});

const runStarted = Date.now();
const next = new Map(plans.map((plan) => [plan.name, 0]));
let aborted = "";
let scriptError = null;
for (;;) {
  const ready = plans.map((plan) => ({ plan, due: plan.due(next.get(plan.name)) })).filter((entry) => entry.due !== null);
  if (ready.length === 0) break;
  ready.sort((a, b) => a.due - b.due);
  const { plan, due } = ready[0];
  sleepSeconds((runStarted + due - Date.now()) / 1000);
  const iteration = next.get(plan.name);
  next.set(plan.name, iteration + 1);
  execution.scenario.name = plan.name;
  execution.scenario.iterationInTest = iteration;
  execution.scenario.iterationInInstance = iteration;
  globalThis.__ITER = iteration;
  try {
    plan.fn();
  } catch (error) {
    // k6 logs an iteration's exception and goes on with the next one.
    console.error(`run.mjs: ${plan.name} iteration ${iteration}: ${error?.message ?? error}`);
    scriptError ??= error;
  }
  const elapsed = Date.now() - runStarted;
  const crossed = thresholdList.find((threshold) => threshold.abortOnFail && elapsed >= threshold.delayMs && !holds(threshold));
  if (crossed) {
    aborted = `${crossed.key} ${crossed.expression}`;
    break;
  }
}

// --- summary ----------------------------------------------------------------------------------------------

const metrics = {};
for (const [name, metric] of samples) {
  metrics[name] = { type: metric.type, contains: metric.contains, values: aggregate(metric.type, metric.points) };
}
let failed = false;
for (const threshold of thresholdList) {
  const { metric, points, name } = pointsOf(threshold.key);
  const type = metric?.type ?? "rate";
  // The threshold's statistic joins the metric's (or submetric's) values, e.g. p(99) beside k6's usual trend stats.
  const values = aggregate(type, points, [threshold.stat]);
  metrics[threshold.key] ??= { type, contains: metric?.contains ?? "default", values: {} };
  Object.assign(metrics[threshold.key].values, values);
  const ok = holds(threshold);
  failed ||= !ok;
  (metrics[threshold.key].thresholds ??= {})[threshold.expression] = { ok };
  if (name !== threshold.key) metrics[threshold.key].submetric = true;
}
const data = {
  metrics,
  options: { summaryTrendStats: ["avg", "min", "med", "max", "p(90)", "p(95)"] },
  state: { testRunDurationMs: Date.now() - runStarted, isStdOutTTY: false, isStdErrTTY: false },
  root_group: { name: "", path: "", groups: [], checks: [] },
};
if (aborted) console.error(`run.mjs: stopped early: threshold ${aborted} crossed (abortOnFail)`);

const outputs = typeof script.handleSummary === "function" ? script.handleSummary(data) : { stdout: JSON.stringify(metrics, null, 2) };
for (const [target, content] of Object.entries(outputs)) {
  if (target === "stdout") process.stdout.write(String(content));
  else if (target === "stderr") process.stderr.write(String(content));
  else {
    mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
    writeFileSync(target, String(content));
  }
}
process.exit(failed || aborted ? 99 : 0);
