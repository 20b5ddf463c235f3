#!/usr/bin/env node
// Validates rendered Kubernetes manifests against the API schemas shipped in kubernetes-models, and rejects
// what those schemas let through but the API server would not accept or would silently drop:
//   - an apiVersion/kind the models do not know (a typo, or a kind this check cannot vouch for);
//   - a field the schema does not define (kubectl's --validate=strict; the schemas themselves allow extras).
// PrometheusRule (a CRD the models do not ship) is checked against the fields of its CRD written out here.
// Usage: node validate.mjs FILE...   (exit 0 when every document passes)
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";
import yaml from "js-yaml";

/** The kubernetes-models module for an apiVersion: "apps/v1" -> kubernetes-models/apps/v1, "v1" -> kubernetes-models/v1. */
function modelModule(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
}

const schemaCache = new Map();

/** The compiled JSON-schema validator behind a model class, found through the import in its module. */
async function schemaValidator(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!schemaCache.has(key)) {
    const file = fileURLToPath(import.meta.resolve(`${modelModule(apiVersion)}/${kind}`));
    const match = /["']([./]*_schemas\/\w+\.m?js)["']/.exec(readFileSync(file, "utf8"));
    if (!match) throw new Error(`cannot find the schema of ${key} in ${file}`);
    const schemaModule = await import(pathToFileURL(path.resolve(path.dirname(file), match[1])).href);
    schemaCache.set(key, schemaModule.validate);
  }
  return schemaCache.get(key);
}

/**
 * Wraps a document so that every property the schema validator reads is recorded. A compiled validator
 * reads each property its schema defines (and every key of a free-form map), so the keys of an object
 * that were never read are the ones the schema does not define.
 */
function track(value, where, records) {
  if (value === null || typeof value !== "object") return value;
  const record = { where, value, read: new Set(), visited: false };
  records.push(record);
  const children = new Map();
  return new Proxy(value, {
    get(target, property, receiver) {
      const result = Reflect.get(target, property, receiver);
      if (typeof property !== "string") return result;
      record.visited = true;
      record.read.add(property);
      if (result !== null && typeof result === "object" && Object.hasOwn(target, property)) {
        if (!children.has(property)) children.set(property, track(result, `${where}/${property}`, records));
        return children.get(property);
      }
      return result;
    },
  });
}

function unknownFields(records) {
  const unknown = [];
  for (const record of records) {
    // An object nothing looked into has a free-form schema (nothing to check against).
    if (!record.visited || Array.isArray(record.value)) continue;
    for (const key of Object.keys(record.value)) {
      if (!record.read.has(key)) unknown.push(`${record.where}/${key}`);
    }
  }
  return unknown;
}

const isStringMap = (value) =>
  value !== null && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
const duration = /^([0-9]+(ms|s|m|h|d|w|y))+$/;

/**
 * prometheus-operator's PrometheusRule, which kubernetes-models does not ship: the fields of its CRD
 * (monitoring.coreos.com/v1) that the chart uses, strictly. promtool checks the expressions themselves.
 */
function validatePrometheusRule(doc) {
  const problems = [];
  const unknown = (object, allowed, where) => {
    for (const key of Object.keys(object ?? {})) if (!allowed.includes(key)) problems.push(`unknown field ${where}/${key}`);
  };
  unknown(doc, ["apiVersion", "kind", "metadata", "spec"], "");
  if (typeof doc.metadata?.name !== "string" || doc.metadata.name.length === 0) problems.push("metadata.name is required");
  if (!Array.isArray(doc.spec?.groups) || doc.spec.groups.length === 0) return [...problems, "spec.groups must be a non-empty list"];
  unknown(doc.spec, ["groups"], "/spec");
  doc.spec.groups.forEach((group, g) => {
    const at = `/spec/groups/${g}`;
    unknown(group, ["name", "interval", "rules", "partial_response_strategy", "limit"], at);
    if (typeof group.name !== "string" || group.name.length === 0) problems.push(`${at}/name is required`);
    if (!Array.isArray(group.rules) || group.rules.length === 0) problems.push(`${at}/rules must be a non-empty list`);
    (group.rules ?? []).forEach((rule, r) => {
      const where = `${at}/rules/${r}`;
      unknown(rule, ["alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"], where);
      if ((typeof rule.alert === "string") === (typeof rule.record === "string")) problems.push(`${where}: exactly one of alert and record`);
      if (typeof rule.expr !== "string" || rule.expr.trim() === "") problems.push(`${where}/expr must be a non-empty string`);
      for (const key of ["for", "keep_firing_for"]) {
        if (rule[key] !== undefined && !duration.test(String(rule[key]))) problems.push(`${where}/${key} is not a duration`);
      }
      for (const key of ["labels", "annotations"]) {
        if (rule[key] !== undefined && !isStringMap(rule[key])) problems.push(`${where}/${key} must map strings to strings`);
      }
    });
  });
  return problems;
}

/** Validates one parsed document; returns a list of problems (empty when valid). */
export async function validateDocument(doc) {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return ["not a mapping"];
  const { apiVersion, kind } = doc;
  if (typeof apiVersion !== "string" || typeof kind !== "string") return ["apiVersion and kind are required"];
  if (apiVersion === "monitoring.coreos.com/v1" && kind === "PrometheusRule") return validatePrometheusRule(doc);
  let models;
  try {
    models = await import(modelModule(apiVersion));
  } catch {
    return [`unknown apiVersion ${apiVersion}`];
  }
  const Model = models[kind];
  if (typeof Model !== "function" || Model.kind !== kind) return [`unknown kind ${kind} in ${apiVersion}`];

  const problems = [];
  try {
    new Model(doc).validate();
  } catch (error) {
    problems.push(String(error.message ?? error));
  }
  const validate = await schemaValidator(apiVersion, kind);
  const records = [];
  validate(track(doc, "", records));
  for (const field of unknownFields(records)) problems.push(`unknown field ${field}`);
  return problems;
}

/** Validates a multi-document YAML text; returns [{ name, problems }] for every non-empty document. */
export async function validateText(text) {
  const results = [];
  for (const doc of yaml.loadAll(text)) {
    if (doc === null || doc === undefined) continue;
    const name = `${doc?.kind ?? "?"}/${doc?.metadata?.name ?? "?"}`;
    results.push({ name, problems: await validateDocument(doc) });
  }
  return results;
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node validate.mjs FILE...");
    return 2;
  }
  let failures = 0;
  let documents = 0;
  for (const file of files) {
    for (const { name, problems } of await validateText(readFileSync(file, "utf8"))) {
      documents += 1;
      if (problems.length > 0) {
        failures += 1;
        console.error(`${file}: ${name}:`);
        for (const problem of problems) console.error(`  ${problem}`);
      }
    }
  }
  console.log(`${documents} documents checked, ${failures} invalid`);
  return failures === 0 && documents > 0 ? 0 : 1;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
