// The GitLab pipeline: gitlab-ci-local parses it (and validates it against GitLab's schema) without running
// anything, the promotion chain dev → staging → production holds, and every deployment uses the digest
// that build:image pushed, never a tag.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import yaml from "js-yaml";
import { deliveryDir, repoRoot } from "./lib.mjs";

const pipelineFile = path.join(repoRoot, ".gitlab-ci.yml");

// --- the pipeline as GitLab resolves it: !reference and extends -------------------------------------------

const ReferenceTag = new yaml.Type("!reference", { kind: "sequence", construct: (data) => ({ $reference: data }) });
const raw = yaml.load(readFileSync(pipelineFile, "utf8"), { schema: yaml.DEFAULT_SCHEMA.extend([ReferenceTag]) });

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

function resolveReferences(value) {
  if (Array.isArray(value)) {
    // A !reference to a list inside a list is spliced in, as GitLab does.
    return value.flatMap((item) => {
      const resolved = resolveReferences(item);
      return isObject(item) && item.$reference && Array.isArray(resolved) ? resolved : [resolved];
    });
  }
  if (!isObject(value)) return value;
  if (value.$reference) {
    const target = value.$reference.reduce((node, key) => node?.[key], raw);
    assert.ok(target !== undefined, `!reference ${value.$reference.join(".")} points nowhere`);
    return resolveReferences(target);
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveReferences(item)]));
}

// GitLab's extends: hashes merge deeply, everything else (lists included) is replaced.
function merge(base, override) {
  const result = { ...base };
  for (const [key, value] of Object.entries(override)) {
    result[key] = isObject(value) && isObject(base[key]) ? merge(base[key], value) : value;
  }
  return result;
}

function resolveJob(name, seen = []) {
  assert.ok(!seen.includes(name), `extends cycle at ${name}`);
  const job = raw[name];
  assert.ok(isObject(job), `no job ${name}`);
  const parents = job.extends === undefined ? [] : [].concat(job.extends);
  let result = {};
  for (const parent of parents) result = merge(result, resolveJob(parent, [...seen, name]));
  const { extends: _extends, ...own } = job;
  return merge(result, own);
}

const reserved = new Set(["stages", "variables", "workflow", "default", "include", "image", "services", "cache", "before_script", "after_script"]);
const jobs = Object.fromEntries(
  Object.keys(raw)
    .filter((name) => !reserved.has(name) && !name.startsWith("."))
    .map((name) => [name, resolveReferences(resolveJob(name))]),
);
const scriptOf = (job) => [...(job.before_script ?? []), ...(job.script ?? [])].join("\n");
const needsOf = (job) => (job.needs ?? []).map((need) => (typeof need === "string" ? { job: need, artifacts: true } : need));
const deployJobs = Object.entries(jobs).filter(([, job]) => job.environment && job.environment.action !== "access");

test("stages run lint → test → build → deploy-dev → deploy-staging → deploy-production", () => {
  assert.deepEqual(raw.stages, ["lint", "test", "build", "deploy-dev", "deploy-staging", "deploy-production"]);
  for (const [name, job] of Object.entries(jobs)) assert.ok(raw.stages.includes(job.stage), `${name}: stage ${job.stage}`);
});

test("the test job installs the PostgreSQL server the tests start themselves and runs ./scripts/test.sh", () => {
  const job = jobs["test:dotnet"];
  assert.equal(job.stage, "test");
  // The outage test stops and restarts its own server, which a service container cannot offer.
  assert.equal(job.services, undefined, "no database service");
  assert.match(scriptOf(job), /apt-get install[^\n]*\bpostgresql\b/);
  assert.match(scriptOf(job), /^\.\/scripts\/test\.sh$/m);
  assert.deepEqual(job.artifacts.paths, ["artifacts/test-results/"]);
});

test("build:image pushes once and hands the digest on as a dotenv report (IMAGE_DIGEST)", () => {
  const build = jobs["build:image"];
  assert.equal(build.stage, "build");
  const script = scriptOf(build);
  assert.equal(script.match(/\bbuildah push\b/g)?.length, 1, "exactly one push");
  assert.match(script, /--digestfile image\.digest/);
  assert.match(script, /echo "IMAGE_DIGEST=\$IMAGE_DIGEST"/);
  assert.equal(build.artifacts.reports.dotenv, "build.env");
  assert.match(script, /\} > build\.env/);
  assert.match(script, /--build-arg REVISION="\$CI_COMMIT_SHA"/);
});

test("every deploy job installs by the digest from build:image, atomically, with its environment and resource group", () => {
  assert.deepEqual(deployJobs.map(([name]) => name).sort(), ["deploy:dev", "deploy:production", "deploy:staging"]);
  for (const [name, job] of deployJobs) {
    const build = needsOf(job).find((need) => need.job === "build:image");
    assert.ok(build && build.artifacts !== false, `${name} needs build:image's artifacts`);
    const script = scriptOf(job);
    assert.match(script, /helm upgrade "\$RELEASE_NAME" "\$CHART" --install/, name);
    assert.match(script, /--set-string image\.digest="\$IMAGE_DIGEST"/, name);
    assert.match(script, /--atomic --wait/, name);
    assert.match(script, /--values "\$CHART\/values-\$DEPLOY_ENV\.yaml"/, name);
    assert.doesNotMatch(script, /image\.tag/, `${name} must not set a tag`);
    assert.doesNotMatch(script, /:\$CI_COMMIT_SHA|:latest/, `${name} must not deploy a tag`);
    assert.ok(job.environment.name && job.environment.url, `${name}: environment name and url`);
    assert.equal(job.resource_group, job.environment.name, `${name}: one deployment at a time per environment`);
  }
});

test("promotion: dev on the default branch, staging after dev, then helm test and the k6 smoke, production manual after the smoke", () => {
  const dev = jobs["deploy:dev"];
  const staging = jobs["deploy:staging"];
  const production = jobs["deploy:production"];
  assert.deepEqual(dev.rules, [{ if: "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" }]);
  assert.ok(needsOf(staging).some((need) => need.job === "deploy:dev"));
  assert.ok(!staging.when || staging.when === "on_success", "staging is automatic");
  const helmTest = jobs["test:staging:helm"];
  assert.ok(needsOf(helmTest).some((need) => need.job === "deploy:staging"));
  assert.match(scriptOf(helmTest), /helm test "\$RELEASE_NAME"/);
  const smoke = jobs["smoke:staging"];
  assert.ok(needsOf(smoke).some((need) => need.job === "test:staging:helm"));
  assert.match(scriptOf(smoke), /k6 run/);
  assert.match(scriptOf(smoke), /-e BASE_URL="\$BASE_URL"/);
  assert.match(scriptOf(smoke), /-e WEBHOOK_SECRET="\$STAGING_WEBHOOK_SECRET"/);
  assert.match(scriptOf(smoke), /tests\/Load\/ingest\.js/);
  assert.ok(needsOf(production).some((need) => need.job === "smoke:staging"), "production waits for the smoke");
  assert.deepEqual(production.rules, [{ if: "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", when: "manual", allow_failure: false }]);
  assert.equal(production.environment.name, "production");
  assert.equal(production.stage, "deploy-production");
});

test("the production deploy uses exactly the digest the build job produced", () => {
  const production = jobs["deploy:production"];
  // The dotenv variable reaches a job only through needs with artifacts: the build job must be there.
  assert.deepEqual(needsOf(production).filter((need) => need.job === "build:image"), [{ job: "build:image", artifacts: true }]);
  const produced = scriptOf(jobs["build:image"]).match(/echo "(IMAGE_DIGEST)=\$IMAGE_DIGEST"/)[1];
  const consumed = scriptOf(production).match(/image\.digest="\$(\w+)"/)[1];
  assert.equal(consumed, produced);
  assert.match(scriptOf(production), /case "\$\{IMAGE_DIGEST:-\}" in\s+sha256:\*\)/, "refuses to run without a digest");
  assert.ok(!production.variables?.IMAGE_DIGEST && !raw.variables?.IMAGE_DIGEST, "nothing may shadow the build's digest");
});

test("each environment has a manual rollback job (helm rollback) in its own resource group", () => {
  for (const [environment, stage] of [["dev", "deploy-dev"], ["staging", "deploy-staging"], ["production", "deploy-production"]]) {
    const job = jobs[`rollback:${environment}`];
    assert.ok(job, `rollback:${environment}`);
    assert.equal(job.stage, stage);
    assert.equal(job.when ?? job.rules?.[0]?.when, "manual");
    assert.equal(job.environment.name, environment);
    assert.equal(job.resource_group, environment);
    assert.match(scriptOf(job), /helm rollback "\$RELEASE_NAME"/);
    assert.deepEqual(job.needs, [], "a rollback does not wait for the pipeline");
  }
});

test("the delivery checks run in the lint stage", () => {
  assert.match(scriptOf(jobs["lint:delivery"]), /bash tests\/Delivery\/run\.sh/);
  assert.equal(jobs["lint:delivery"].stage, "lint");
});

// --- gitlab-ci-local: GitLab's own parsing rules and schema, nothing executed ----------------------------

const gitlabCiLocal = path.join(deliveryDir, "node_modules/gitlab-ci-local/src/index.js");

function listJobs(branch) {
  const dir = mkdtempSync(path.join(tmpdir(), "bot-gcl-"));
  try {
    const git = (...args) => {
      const result = spawnSync("git", args, { cwd: dir, encoding: "utf8" });
      assert.equal(result.status, 0, `git ${args.join(" ")}: ${result.stderr}`);
    };
    copyFileSync(pipelineFile, path.join(dir, ".gitlab-ci.yml"));
    mkdirSync(path.join(dir, "home"));
    git("init", "-q", "-b", "main");
    git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-q", "--allow-empty", "-m", "base");
    git("add", ".gitlab-ci.yml");
    git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-q", "-m", "pipeline");
    git("remote", "add", "origin", "https://gitlab.example.com/community/bot.git");
    git("update-ref", "refs/remotes/origin/main", "HEAD");
    git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main");
    if (branch !== "main") git("checkout", "-q", "-b", branch);
    // --list-csv only parses, evaluates rules and validates against GitLab's JSON schema; it starts no job.
    const result = spawnSync(process.execPath, [gitlabCiLocal, "--list-csv", "--home", path.join(dir, "home"), "--no-color"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, HOME: path.join(dir, "home"), GCL_TIMESTAMPS: "false" },
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /json schema validated/);
    const lines = result.stdout.split("\n").filter((line) => line.includes(";"));
    const [header, ...rows] = lines;
    assert.equal(header, "name;description;stage;when;allowFailure;needs");
    return rows.map((line) => {
      const [name, , stage, when, allowFailure, needs] = line.split(";");
      return { name, stage, when, allowFailure, needs: needs.replace(/^\[|\]$/g, "").split(",").filter(Boolean) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("gitlab-ci-local --list parses the pipeline on the default branch and shows the promotion chain", () => {
  const listed = listJobs("main");
  const byName = Object.fromEntries(listed.map((job) => [job.name, job]));
  const order = listed.map((job) => job.name);
  for (const name of ["lint:delivery", "test:dotnet", "build:image", "deploy:dev", "deploy:staging", "smoke:staging", "deploy:production"]) {
    assert.ok(byName[name], `${name} listed`);
  }
  assert.ok(order.indexOf("build:image") < order.indexOf("deploy:dev"));
  assert.ok(order.indexOf("deploy:dev") < order.indexOf("deploy:staging"));
  assert.ok(order.indexOf("deploy:staging") < order.indexOf("deploy:production"));
  assert.deepEqual(byName["deploy:dev"].needs, ["build:image"]);
  assert.deepEqual(byName["deploy:staging"].needs, ["build:image", "deploy:dev"]);
  assert.deepEqual(byName["deploy:production"].needs, ["build:image", "smoke:staging"]);
  assert.equal(byName["deploy:production"].when, "manual");
  assert.equal(byName["deploy:production"].allowFailure, "false", "production blocks the pipeline until someone decides");
  assert.equal(byName["deploy:staging"].when, "on_success");
  for (const environment of ["dev", "staging", "production"]) assert.equal(byName[`rollback:${environment}`]?.when, "manual");
});

test("gitlab-ci-local --list on a feature branch: tested and built, never deployed", () => {
  const names = listJobs("feature/change").map((job) => job.name);
  for (const name of ["lint:delivery", "test:dotnet", "build:image"]) assert.ok(names.includes(name), name);
  assert.deepEqual(names.filter((name) => /^(deploy|rollback|smoke|test:staging)/.test(name)), []);
});
