// Every image the project pulls is pinned by digest, with its tag kept for people (repository:tag@sha256:…):
// the Dockerfile's FROM lines and its syntax frontend, every image the chart renders into a pod (except the
// bot's own, which the pipeline sets to the digest it pushed: chart.test.mjs checks that one), and every
// `image:` of the pipeline. A tag alone is a moving target: what was tested is not what would be pulled.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";
import { containersOf, docsOf, podSpecs, repoRoot } from "./lib.mjs";

const pinned = /^[a-z0-9][a-z0-9.-]*(:\d+)?(\/[a-z0-9._-]+)+:[\w][\w.-]{0,127}@sha256:[0-9a-f]{64}$/;
const botImagePattern = /(^|\/)community\/bot[@:]/;

test("Dockerfile: the syntax frontend and every FROM are pinned by digest, tag kept", () => {
  const text = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");
  const syntax = /^# syntax=(\S+)$/m.exec(text);
  if (syntax) assert.match(`docker.io/${syntax[1]}`, pinned, `syntax directive ${syntax[1]}`);
  const lines = text.replace(/\\\n/g, " ").split("\n").map((line) => line.trim());
  const args = {};
  const stages = [];
  let froms = 0;
  for (const line of lines) {
    const arg = /^ARG (\w+)=(\S+)$/.exec(line);
    if (arg && stages.length === 0) args[arg[1]] = arg[2];
    const from = /^FROM (?:--platform=\S+ )?(\S+)(?: AS (\S+))?$/i.exec(line);
    if (!from) continue;
    froms++;
    const image = from[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? "");
    if (!stages.includes(image)) assert.match(image, pinned, `FROM ${from[1]} (= ${image})`);
    if (from[2]) stages.push(from[2]);
  }
  assert.ok(froms >= 2, "the build and final stages");
});

for (const variant of ["dev", "staging", "prod", "sentinel", "polling"]) {
  test(`chart (${variant}): every pod image other than the bot's is pinned by digest, tag kept`, () => {
    const images = podSpecs(docsOf(variant)).flatMap(({ where, spec }) => containersOf(spec).map((container) => ({ where, image: container.image })));
    const others = images.filter(({ image }) => !botImagePattern.test(image));
    assert.ok(images.length > others.length, "the bot's own containers are there");
    if (variant === "sentinel") assert.ok(others.length >= 3, "backup, restore check and helm test images rendered");
    for (const { where, image } of others) assert.match(image, pinned, `${where}: ${image}`);
  });
}

const ReferenceTag = new yaml.Type("!reference", { kind: "sequence", construct: (data) => ({ $reference: data }) });
const pipeline = yaml.load(readFileSync(path.join(repoRoot, ".gitlab-ci.yml"), "utf8"), {
  schema: yaml.DEFAULT_SCHEMA.extend([ReferenceTag]),
});

test("pipeline: every image: entry (jobs, hidden jobs, default) resolves to an image pinned by digest, tag kept", () => {
  const variables = pipeline.variables ?? {};
  const expand = (text) => String(text).replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => String(variables[a ?? b] ?? `$${a ?? b}`));
  const found = [];
  for (const [name, job] of Object.entries(pipeline)) {
    if (!job || typeof job !== "object" || Array.isArray(job) || job.image === undefined) continue;
    const reference = typeof job.image === "string" ? job.image : job.image.name;
    found.push({ name, reference, image: expand(reference) });
  }
  // container_scanning takes its image from GitLab's template (CS_ANALYZER_IMAGE): not set in this file.
  assert.equal(pipeline.container_scanning?.image, undefined);
  assert.ok(found.length >= 6, `image: entries found: ${found.map((entry) => entry.name).join(", ")}`);
  for (const { name, reference, image } of found) assert.match(image, pinned, `${name}: image ${reference} = ${image}`);
  // A variable named like an image is one, wherever it is used.
  for (const [name, value] of Object.entries(variables)) {
    if (/_IMAGE$/.test(name) && !/^\$CI_/.test(String(value))) assert.match(String(value), pinned, `variables.${name}`);
  }
});
