// Renovate's configuration (renovate.json): valid against Renovate's own schema (the version pinned in run.sh),
// no option Renovate does not know, and its custom managers find every pinned version the repository keeps outside
// the package files Renovate reads by itself: the pipeline's tool images and release binaries, the Dockerfile's
// images, the chart's images. A pin no manager finds would never be updated.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import { repoRoot } from "./lib.mjs";

const config = JSON.parse(readFileSync(path.join(repoRoot, "renovate.json"), "utf8"));
const schemaFile = process.env.RENOVATE_SCHEMA ?? path.join(repoRoot, "tests/Delivery/.tools/renovate-schema-44.121.2.json");
const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
const read = (file) => readFileSync(path.join(repoRoot, file), "utf8");

// Renovate's schema allows unknown keys; Renovate ignores them with a warning, so a misspelt option does nothing.
const propertiesOf = (definition) => new Set(Object.keys(schema.definitions[definition].items.allOf[0].properties));
// A package rule may also set any option of the configuration itself (groupName, schedule, automerge, …).
const top = new Set(Object.keys(schema.properties));
const known = { top, packageRules: new Set([...top, ...propertiesOf("packageRules")]), customManagers: propertiesOf("customManagers") };
const unknownKeys = (object, where = "top") => Object.keys(object).filter((key) => key !== "$schema" && !known[where].has(key));

test("renovate.json validates against Renovate's schema, with no option Renovate does not know", () => {
  assert.equal(validate(config), true, JSON.stringify(validate.errors, null, 2));
  assert.deepEqual(unknownKeys(config), []);
  for (const rule of config.packageRules) assert.deepEqual(unknownKeys(rule, "packageRules"), [], JSON.stringify(rule));
  for (const manager of config.customManagers) assert.deepEqual(unknownKeys(manager, "customManagers"), [], JSON.stringify(manager));
  // The check can fail: a wrong type, an unknown enum value and a misspelt option are each caught.
  assert.equal(validate({ ...config, prConcurrentLimit: "six" }), false);
  assert.equal(validate({ ...config, rangeStrategy: "pinned" }), false);
  assert.deepEqual(unknownKeys({ ...config, schedul: [] }), ["schedul"]);
  assert.deepEqual(unknownKeys({ matchPackageName: ["x"] }, "packageRules"), ["matchPackageName"]);
});

// Renovate's regex managers use JavaScript regular expressions over the whole file ("g" per match string).
function matches(managerDescription, file) {
  const manager = config.customManagers.find((entry) => entry.description.startsWith(managerDescription));
  assert.ok(manager, managerDescription);
  const text = read(file);
  assert.ok(manager.managerFilePatterns.some((pattern) => new RegExp(pattern.slice(1, -1)).test(file)), `${managerDescription} reads ${file}`);
  return manager.matchStrings.flatMap((source) => [...text.matchAll(new RegExp(source, "g"))].map((m) => m.groups));
}

test("the pipeline's tool images and release binaries are all found", () => {
  const pipeline = read(".gitlab-ci.yml");
  const images = [...pipeline.matchAll(/^ {2}(\w+_IMAGE): (\S+@sha256:[0-9a-f]{64})$/gm)].map((m) => m[2]);
  assert.ok(images.length >= 5, images.join(", "));
  const found = matches("Tool images in the pipeline", ".gitlab-ci.yml").map((g) => `${g.depName}:${g.currentValue}@${g.currentDigest}`);
  assert.deepEqual(found.sort(), images.sort());
  for (const [variable, dep] of [["TERRAFORM_VERSION", "hashicorp/terraform"], ["COSIGN_VERSION", "sigstore/cosign"], ["SYFT_VERSION", "anchore/syft"]]) {
    const value = new RegExp(`^ {2}${variable}: "?([^"\\n]+)"?$`, "m").exec(pipeline)[1];
    const groups = matches(dep, ".gitlab-ci.yml");
    assert.deepEqual(groups.map((g) => g.currentValue), [value], variable);
  }
});

test("the Dockerfile's images and the chart's images are all found", () => {
  const dockerfile = read("Dockerfile");
  const args = [...dockerfile.matchAll(/^ARG \w+_IMAGE=(\S+)$/gm)].map((m) => m[1]);
  assert.ok(args.length >= 2);
  assert.deepEqual(matches("The Dockerfile's build and runtime images", "Dockerfile").map((g) => `${g.depName}:${g.currentValue}@${g.currentDigest}`).sort(), args.sort());
  for (const file of ["charts/bot/values.yaml"]) {
    const digests = [...read(file).matchAll(/^\s+digest: "(sha256:[0-9a-f]{64})"$/gm)].map((m) => m[1]);
    assert.ok(digests.length >= 2, file);
    const found = matches("Images in the chart's values", file);
    assert.deepEqual(found.map((g) => g.currentDigest).sort(), digests.sort(), `${file}: every pinned image`);
    for (const g of found) assert.match(`${g.registryUrl}/${g.depName}:${g.currentValue}`, /^[a-z0-9.-]+\/[\w./-]+:[\w.-]+$/);
  }
});

test("every group names packages the repository uses, and nothing merges without the pipeline and a person", () => {
  const used = [
    ...[...read("Directory.Packages.props").matchAll(/PackageVersion Include="([^"]+)"/g)].map((m) => m[1]),
    ...Object.keys(JSON.parse(read("tests/Delivery/package.json")).devDependencies),
  ];
  const glob = (pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  for (const rule of config.packageRules.filter((entry) => entry.groupName && entry.matchPackageNames && !entry.matchDatasources)) {
    const hits = used.filter((name) => rule.matchPackageNames.some((pattern) => !pattern.startsWith("!") && glob(pattern).test(name)));
    assert.ok(hits.length > 0, `group ${rule.groupName} matches nothing the repository uses`);
  }
  assert.ok(config.packageRules.every((rule) => rule.automerge !== true));
  assert.equal(config.lockFileMaintenance.enabled, true);
  assert.equal(config.pinDigests, true);
});
