// Shared helpers for the delivery assertions: rendering the chart, walking the manifests, running helm.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
export const deliveryDir = path.resolve(here, "..");
export const repoRoot = process.env.REPO_ROOT ?? path.resolve(deliveryDir, "../..");
export const chartDir = path.join(repoRoot, "charts/bot");
export const helm = process.env.HELM ?? path.join(deliveryDir, ".tools/helm");
export const sentinelDigest =
  process.env.SENTINEL_DIGEST ?? "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
export const environments = ["dev", "staging", "prod"];
export const telegramRanges = ["149.154.160.0/20", "91.108.4.0/22"];

/** Runs helm with the given arguments; returns { status, stdout, stderr }. */
export function runHelm(args) {
  const result = spawnSync(helm, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const variantArgs = {
  dev: ["--namespace", "bot-dev", "-f", path.join(chartDir, "values-dev.yaml"), "--set", `image.digest=${sentinelDigest}`],
  staging: ["--namespace", "bot-staging", "-f", path.join(chartDir, "values-staging.yaml"), "--set", `image.digest=${sentinelDigest}`],
  prod: ["--namespace", "bot-prod", "-f", path.join(chartDir, "values-prod.yaml"), "--set", `image.digest=${sentinelDigest}`],
  sentinel: [
    "--namespace", "bot-prod",
    "-f", path.join(chartDir, "values-prod.yaml"),
    "-f", path.join(deliveryDir, "fixtures/sentinel-secrets.yaml"),
    "--set", `image.digest=${sentinelDigest}`,
  ],
  polling: ["--namespace", "bot-dev", "-f", path.join(chartDir, "values-dev.yaml"), "-f", path.join(deliveryDir, "fixtures/polling.yaml")],
  extras: ["--namespace", "bot-dev", "-f", path.join(deliveryDir, "fixtures/extras.yaml")],
};

const cache = new Map();

/** The rendered manifests of one variant (run.sh renders them once into RENDER_DIR; else rendered here). */
export function rendered(variant) {
  if (!cache.has(variant)) {
    let text;
    const file = process.env.RENDER_DIR ? path.join(process.env.RENDER_DIR, `${variant}.yaml`) : null;
    if (file && existsSync(file)) {
      text = readFileSync(file, "utf8");
    } else {
      const result = runHelm(["template", "bot", chartDir, ...variantArgs[variant]]);
      if (result.status !== 0) throw new Error(`helm template ${variant} failed:\n${result.stderr}`);
      text = result.stdout;
    }
    cache.set(variant, { text, docs: yaml.loadAll(text).filter((doc) => doc && typeof doc === "object") });
  }
  return cache.get(variant);
}

export const docsOf = (variant) => rendered(variant).docs;
export const ofKind = (docs, kind) => docs.filter((doc) => doc.kind === kind);
export const named = (docs, kind, name) => docs.find((doc) => doc.kind === kind && doc.metadata?.name === name);
export const annotations = (doc) => doc.metadata?.annotations ?? {};
export const hookOf = (doc) => (annotations(doc)["helm.sh/hook"] ?? "").split(",").filter(Boolean).sort();

/** Every pod spec with where it came from: Deployments, Jobs, CronJobs and bare Pods. */
export function podSpecs(docs) {
  const specs = [];
  for (const doc of docs) {
    const where = `${doc.kind}/${doc.metadata?.name}`;
    if (doc.kind === "Pod") specs.push({ where, doc, spec: doc.spec });
    if (["Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"].includes(doc.kind)) {
      specs.push({ where, doc, spec: doc.spec.template.spec });
    }
    if (doc.kind === "CronJob") specs.push({ where, doc, spec: doc.spec.jobTemplate.spec.template.spec });
  }
  return specs;
}

export const containersOf = (spec) => [...(spec.initContainers ?? []), ...(spec.containers ?? [])];

export const envValue = (container, name) => container.env?.find((entry) => entry.name === name)?.value;

export function loadYamlFile(file, options = {}) {
  return yaml.load(readFileSync(file, "utf8"), options);
}
