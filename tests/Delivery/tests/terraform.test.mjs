// Terraform and the chart agree: each environment root feeds the module the names its values file uses,
// namespaces match the pipeline, secrets are sensitive and the state backend is GitLab's (partial http).
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { chartDir, loadYamlFile, repoRoot } from "./lib.mjs";

const read = (file) => readFileSync(path.join(repoRoot, "terraform", file), "utf8");
const attribute = (text, name) => new RegExp(`^\\s*${name}\\s*=\\s*"([^"]*)"`, "m").exec(text)?.[1];
const pipeline = readFileSync(path.join(repoRoot, ".gitlab-ci.yml"), "utf8");

for (const env of ["dev", "staging", "prod"]) {
  test(`${env}: the environment root matches values-${env}.yaml and the pipeline`, () => {
    const main = read(`environments/${env}/main.tf`);
    const values = loadYamlFile(path.join(chartDir, `values-${env}.yaml`));
    assert.match(main, /source\s*=\s*"\.\.\/\.\.\/modules\/bot-environment"/);
    assert.equal(attribute(main, "environment"), env);
    const namespace = attribute(main, "namespace");
    assert.match(pipeline, new RegExp(`DEPLOY_ENV: ${env}\\n\\s+KUBE_NAMESPACE: ${namespace}\\n`), "the pipeline deploys to the same namespace");
    const cluster = attribute(main, "cluster_name");
    assert.equal(attribute(main, "mode"), "cloudnativepg");
    assert.equal(values.database.host, `${cluster}-rw`);
    assert.equal(values.database.passwordSecret.name, `${cluster}-app`);
    assert.equal(values.secrets.existingSecret, "bot-secrets", "the module's app_secret_name default");
    const restoreCheckOff = /restore_check\s*=\s*false/.test(main);
    if (values.restoreCheck?.enabled) {
      assert.ok(!restoreCheckOff, "the values enable the restore check: the database must declare its role");
      assert.equal(values.restoreCheck.target.passwordSecret.name, "bot-restore-check");
      assert.equal(values.restoreCheck.target.username, "restore_check");
      // A server of its own (the module's <cluster>-restore) or the bot's, as the environment root says.
      if (/restore_check_server\s*=\s*true/.test(main)) {
        assert.equal(values.restoreCheck.target.host, `${cluster}-restore-rw`);
        assert.equal(values.restoreCheck.target.caSecret?.name, `${cluster}-restore-ca`);
      } else {
        assert.ok([undefined, "", `${cluster}-rw`].includes(values.restoreCheck.target.host), "the bot's own server");
      }
    }
    assert.equal(values.database.caSecret?.name, `${cluster}-ca`, "CloudNativePG's CA Secret");
    const versions = read(`environments/${env}/versions.tf`);
    assert.match(versions, /backend "http" \{\}/, "partial http backend (GitLab-managed state)");
  });
}

test("module variables are described, and secret ones are sensitive", () => {
  const variables = read("modules/bot-environment/variables.tf");
  const blocks = variables.split(/^variable /m).slice(1);
  assert.ok(blocks.length >= 10);
  for (const block of blocks) {
    const name = /^"([^"]+)"/.exec(block)[1];
    assert.match(block, /description\s*=/, `${name} has a description`);
    if (/token|secret$|password|credentials|connection_string/.test(name) && name !== "existing_secret_name" && name !== "app_secret_name") {
      assert.match(block, /sensitive\s*=\s*true/, `${name} is sensitive`);
    }
  }
});

test("providers are pinned, and the module installs the chart from this repository by digest", () => {
  for (const file of ["modules/bot-environment/versions.tf", "environments/prod/versions.tf"]) {
    const text = read(file);
    for (const provider of ["hashicorp/kubernetes", "hashicorp/helm"]) {
      assert.match(text, new RegExp(`source\\s*=\\s*"${provider}"\\s*\\n\\s*version\\s*=\\s*"~> \\d+\\.\\d+"`), `${file}: ${provider}`);
    }
  }
  const main = read("modules/bot-environment/main.tf");
  assert.match(main, /"\$\{path\.module\}\/\.\.\/\.\.\/\.\.\/charts\/bot"/);
  assert.match(main, /name = "image\.digest", value = local\.image_digest/);
  assert.doesNotMatch(main, /image\.tag/);
  assert.match(main, /kind\s*=\s*"Cluster"/);
  assert.match(main, /barmanObjectStore/);
});

// "~> 3.0" takes 3.x from 3.0 up; "~> 3.6.1" takes 3.6.x from 3.6.1 up.
function satisfiesPessimistic(version, constraint) {
  const bound = /^~>\s*(\d+(?:\.\d+)*)$/.exec(constraint.trim());
  assert.ok(bound, `only "~> x.y" constraints are checked here, not ${constraint}`);
  const want = bound[1].split(".").map(Number);
  const have = version.split(".").map(Number);
  const fixed = want.slice(0, Math.max(1, want.length - 1));
  if (fixed.some((part, i) => have[i] !== part)) return false;
  for (let i = fixed.length; i < want.length; i++) if (have[i] !== want[i]) return have[i] > want[i];
  return true;
}

test("each environment commits a .terraform.lock.hcl that locks every required provider, the same in all three", () => {
  const locked = {};
  for (const env of ["dev", "staging", "prod"]) {
    const versions = read(`environments/${env}/versions.tf`);
    const lock = read(`environments/${env}/.terraform.lock.hcl`);
    const blocks = Object.fromEntries(
      [...lock.matchAll(/^provider "registry\.terraform\.io\/([^"]+)" \{\n([\s\S]*?)^\}/gm)].map(([, source, body]) => [source, body]),
    );
    const required = [...versions.matchAll(/source\s*=\s*"([^"]+)"\s*\n\s*version\s*=\s*"([^"]+)"/g)];
    assert.ok(required.length >= 3, `${env}: required_providers`);
    assert.deepEqual(Object.keys(blocks).sort(), required.map(([, source]) => source).sort(), `${env}: one lock entry per provider`);
    for (const [, source, constraint] of required) {
      const body = blocks[source];
      const version = /version\s*=\s*"([^"]+)"/.exec(body)[1];
      assert.equal(/constraints\s*=\s*"([^"]+)"/.exec(body)?.[1], constraint, `${env}: ${source} constraints as versions.tf has them`);
      assert.ok(satisfiesPessimistic(version, constraint), `${env}: ${source} ${version} satisfies ${constraint}`);
      const hashes = [...body.matchAll(/"((?:h1|zh):[^"]+)"/g)].map(([, hash]) => hash);
      // zh: the SHA-256 of each platform's release zip, as the registry signs them; h1: a package's contents.
      assert.ok(hashes.filter((hash) => /^zh:[0-9a-f]{64}$/.test(hash)).length >= 10, `${env}: ${source} zh: hashes for every platform`);
      assert.ok(hashes.some((hash) => /^h1:[A-Za-z0-9+/]{43}=$/.test(hash)), `${env}: ${source} an h1: hash`);
      assert.ok(hashes.every((hash) => /^(zh:[0-9a-f]{64}|h1:[A-Za-z0-9+/]{43}=)$/.test(hash)), `${env}: ${source} well-formed hashes`);
    }
    locked[env] = lock;
  }
  assert.equal(locked.staging, locked.dev, "staging locks what dev locks");
  assert.equal(locked.prod, locked.dev, "prod locks what dev locks");
});
