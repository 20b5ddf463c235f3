#!/usr/bin/env node
// Writes the rule groups of the PrometheusRule in a rendered chart as a plain Prometheus rules file, so that
// promtool checks and tests exactly what the chart deploys.
// Usage: node extract-rules.mjs RENDERED.yaml OUT.yaml
import { readFileSync, writeFileSync } from "node:fs";
import yaml from "js-yaml";

const [input, output] = process.argv.slice(2);
const rules = yaml.loadAll(readFileSync(input, "utf8")).filter((doc) => doc?.kind === "PrometheusRule");
if (rules.length !== 1) {
  console.error(`expected one PrometheusRule in ${input}, found ${rules.length}`);
  process.exit(1);
}
writeFileSync(output, yaml.dump({ groups: rules[0].spec.groups }, { lineWidth: -1 }));
