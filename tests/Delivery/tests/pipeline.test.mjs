// The GitLab pipeline: gitlab-ci-local parses it (and validates it against GitLab's schema) without running
// anything, the promotion chain dev → staging → production holds, every deployment uses the digest
// that build:image pushed, never a tag, and only after that digest's signature verified; SBOMs and the
// container scan cover the pushed digest; merge-request pipelines cannot write the caches.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
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
const deployJobs = Object.entries(jobs).filter(([name, job]) => job.environment && name.startsWith("deploy:"));

test("stages run lint → test → build → attest → verify → deploy-dev → deploy-staging → deploy-production", () => {
  assert.deepEqual(raw.stages, ["lint", "test", "build", "attest", "verify", "deploy-dev", "deploy-staging", "deploy-production"]);
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
    assert.match(script, /helm upgrade "\$RELEASE_NAME" "\$CHART_REPOSITORY\/\$RELEASE_NAME" --version "\$CHART_VERSION" --install/, name);
    const chart = needsOf(job).find((need) => need.job === "package:chart");
    assert.ok(chart && chart.artifacts !== false, `${name} needs package:chart's CHART_VERSION`);
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
  assert.match(scriptOf(smoke), /tests\/Load\/smoke\.js/);
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

// A job that changes an environment (deploy, rollback) or holds its resource group (helm test, smoke) must run to
// its end: with auto_cancel on_new_commit: interruptible, an interruptible one is cancelled by the next push to the
// default branch, in the middle of a `helm upgrade --atomic`.
// A job that only prepares or reads an environment (plan:terraform) changes nothing there.
const changesEnvironment = (job) => (job.environment && !["prepare", "access", "verify"].includes(job.environment.action)) || job.resource_group;

function assertRunsToTheEnd(name, job) {
  if (changesEnvironment(job)) {
    assert.equal(job.interruptible, false, `${name}: not interruptible (a new commit must not cancel it mid-deploy)`);
  }
}

test("deploy, rollback, helm test and smoke jobs are not interruptible, so a new commit cannot cancel a deploy", () => {
  const environmentJobs = Object.entries(jobs).filter(([, job]) => changesEnvironment(job));
  assert.ok(environmentJobs.length >= 8, environmentJobs.map(([name]) => name).join(", "));
  for (const [name, job] of environmentJobs) assertRunsToTheEnd(name, job);
  // The check itself: an interruptible deploy job fails it, and so does one that only inherits the default.
  const [name, deploy] = deployJobs[0];
  assert.throws(() => assertRunsToTheEnd(name, { ...deploy, interruptible: true }), /not interruptible/);
  const { interruptible: _dropped, ...inheriting } = deploy;
  assert.throws(() => assertRunsToTheEnd(name, inheriting), /not interruptible/);
  assert.equal(raw.default.interruptible, true, "the other jobs stay interruptible (a new commit cancels superseded tests)");
});

test("a rollback is recorded as a deployment of its environment and prints what runs after it", () => {
  for (const environment of ["dev", "staging", "production"]) {
    const job = jobs[`rollback:${environment}`];
    assert.notEqual(job.environment.action, "access", `rollback:${environment}: a deployment, not an access`);
    assert.equal(job.environment.action ?? "start", "start");
    assert.match(scriptOf(job), /helm get values "\$RELEASE_NAME"/);
  }
});

// --- supply chain: SBOMs, signature, verification, scan, caches ----------------------------------------------

const digestRef = '"$IMAGE_REPOSITORY@$IMAGE_DIGEST"';
const needsJob = (job, name) => needsOf(job).find((need) => need.job === name);
const stageIndex = (name) => raw.stages.indexOf(jobs[name].stage);

test("the binary's CycloneDX SBOM comes from the locked linux-x64 restore, with the tool pinned in dotnet-tools.json", () => {
  const job = jobs["sbom:binary"];
  assert.ok(job, "sbom:binary");
  assert.equal(job.stage, "attest");
  assert.ok(needsJob(job, "build:image"), "after the build");
  const script = scriptOf(job);
  assert.match(script, /^dotnet tool restore$/m);
  assert.match(script, /dotnet restore src\/Bot -r linux-x64 -p:Configuration=Release --locked-mode/);
  assert.match(script, /dotnet tool run dotnet-CycloneDX src\/Bot\/Bot\.csproj/);
  assert.match(script, /--runtime linux-x64/);
  const report = job.artifacts.reports.cyclonedx;
  assert.match(report, /\.cdx\.json$/);
  assert.match(script, new RegExp(`--output ${path.dirname(report)} --filename ${path.basename(report)}`.replace(/\./g, "\\.")));
  assert.ok(job.artifacts.paths.includes(report), "kept as an artifact as well as a report");
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, "dotnet-tools.json"), "utf8"));
  assert.match(manifest.tools.cyclonedx?.version ?? "", /^\d+\.\d+\.\d+$/, "CycloneDX tool pinned to one version");
  assert.deepEqual(manifest.tools.cyclonedx.commands, ["dotnet-CycloneDX"]);
});

test("the image's CycloneDX SBOM is read from the pushed digest", () => {
  const job = jobs["sbom:image"];
  assert.ok(job, "sbom:image");
  assert.equal(job.stage, "attest");
  assert.ok(needsJob(job, "build:image")?.artifacts !== false, "needs build:image's digest");
  const script = scriptOf(job);
  assert.match(script, /syft scan "registry:\$IMAGE_REPOSITORY@\$IMAGE_DIGEST"/);
  const report = job.artifacts.reports.cyclonedx;
  assert.ok(script.includes(`cyclonedx-json@1.6=${report}`), "syft writes the report file");
  assert.ok(job.artifacts.paths.includes(report));
});

test("cosign and syft are release binaries checked against pinned SHA-256 sums before they run", () => {
  for (const [tool, hidden] of [["cosign", ".with-cosign"], ["syft", ".with-syft"]]) {
    const upper = tool.toUpperCase();
    assert.match(String(raw.variables[`${upper}_SHA256`]), /^[0-9a-f]{64}$/, `${upper}_SHA256`);
    assert.match(String(raw.variables[`${upper}_VERSION`]), /^v?\d+\.\d+\.\d+$/, `${upper}_VERSION`);
    const script = raw[hidden].before_script.join("\n");
    const download = script.indexOf(`https://github.com/`);
    const check = script.search(new RegExp(`echo "\\$\\{${upper}_SHA256\\}  \\S+" \\| sha256sum -c -`));
    const install = script.search(/\binstall -m 0755\b|tar -xzf/);
    assert.ok(download >= 0 && check > download && install > check, `${hidden}: download, check, then install`);
  }
});

test("sign:image signs the pushed digest keyless (GitLab OIDC for sigstore) and attests the image SBOM, on the default branch", () => {
  const job = jobs["sign:image"];
  assert.ok(job, "sign:image");
  assert.equal(job.stage, "attest");
  assert.ok(needsJob(job, "build:image")?.artifacts !== false, "needs the digest");
  assert.ok(needsJob(job, "sbom:image")?.artifacts !== false, "needs the image SBOM");
  assert.deepEqual(job.id_tokens, { SIGSTORE_ID_TOKEN: { aud: "sigstore" } });
  const script = scriptOf(job);
  assert.match(script, new RegExp(`^cosign sign ${digestRef.replace(/\$/g, "\\$")}$`, "m"));
  assert.match(script, /cosign attest --type cyclonedx --predicate artifacts\/sbom\/gl-sbom-bot-image\.cdx\.json "\$IMAGE_REPOSITORY@\$IMAGE_DIGEST"/);
  assert.ok(job.artifacts === undefined || !JSON.stringify(job.artifacts).includes("cosign.key"), "no key material");
  assert.deepEqual(job.rules, [{ if: "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" }]);
});

test("verify:image checks the signature and the attestation against this project's default-branch identity", () => {
  const job = jobs["verify:image"];
  assert.ok(job, "verify:image");
  assert.equal(job.stage, "verify");
  assert.ok(needsJob(job, "sign:image"), "after signing");
  assert.ok(needsJob(job, "build:image")?.artifacts !== false, "the digest from build:image");
  const script = scriptOf(job);
  assert.match(script, /identity="\$\{CI_PROJECT_URL\}\/\/\$\{CI_CONFIG_PATH\}@refs\/heads\/\$\{CI_DEFAULT_BRANCH\}"/);
  for (const command of ["cosign verify", "cosign verify-attestation --type cyclonedx"]) {
    assert.ok(script.includes(command), command);
  }
  assert.equal(script.match(/--certificate-identity "\$identity" --certificate-oidc-issuer "\$CI_SERVER_URL" "\$ref"/g)?.length, 2);
  assert.match(script, /ref="\$IMAGE_REPOSITORY@\$IMAGE_DIGEST"/);
  assert.deepEqual(job.rules, [{ if: "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" }]);
});

test("order: build → SBOMs and signature → verify → every deploy job, and every deploy job needs verify:image", () => {
  assert.ok(stageIndex("build:image") < stageIndex("sbom:binary"));
  assert.ok(stageIndex("build:image") < stageIndex("sbom:image"));
  assert.ok(stageIndex("sbom:image") <= stageIndex("sign:image"));
  assert.ok(stageIndex("sign:image") < stageIndex("verify:image"));
  assert.ok(deployJobs.length >= 3);
  for (const [name, job] of deployJobs) {
    assert.ok(needsJob(job, "verify:image"), `${name} needs verify:image`);
    assert.ok(stageIndex("verify:image") < raw.stages.indexOf(job.stage), `${name} runs after the verify stage`);
    assert.deepEqual(job.rules.map((rule) => rule.if), jobs["verify:image"].rules.map((rule) => rule.if), `${name} runs where verify:image runs`);
  }
});

test("container scanning: GitLab's template, run on the pushed digest after the push", () => {
  assert.ok([].concat(raw.include).some((entry) => entry.template === "Jobs/Container-Scanning.gitlab-ci.yml"));
  const job = jobs.container_scanning;
  assert.equal(job.stage, "attest");
  assert.deepEqual(needsJob(job, "build:image"), { job: "build:image", artifacts: true });
  assert.deepEqual(job.dependencies, ["build:image"], "the template's dependencies: [] would drop build.env");
  assert.match(scriptOf(jobs["build:image"]), /echo "CS_IMAGE=\$IMAGE_REPOSITORY@\$IMAGE_DIGEST"\n[\s\S]*\} > build\.env/);
  assert.equal(job.variables?.CS_IMAGE, undefined, "nothing else sets CS_IMAGE");
  assert.equal(raw.variables.CS_IMAGE, undefined, "nothing else sets CS_IMAGE");
});

// The workflow rules' conditions, as GitLab evaluates them: $VAR (set and non-empty), == and != against a
// string or another variable, && and ||.
function evaluate(condition, variables) {
  const value = (term) => {
    const trimmed = term.trim();
    if (trimmed.startsWith("$")) return variables[trimmed.slice(1)] ?? null;
    return JSON.parse(trimmed.replace(/^'|'$/g, '"'));
  };
  return condition.split("||").some((any) =>
    any.split("&&").every((all) => {
      const comparison = /^(.*?)\s*(==|!=)\s*(.*)$/.exec(all.trim());
      if (!comparison) return Boolean(value(all));
      const equal = value(comparison[1]) === value(comparison[3]);
      return comparison[2] === "==" ? equal : !equal;
    }),
  );
}

function cachePolicyFor(variables) {
  const rule = raw.workflow.rules.find((candidate) => evaluate(candidate.if, variables));
  assert.ok(rule && rule.when !== "never", `a pipeline runs for ${JSON.stringify(variables)}`);
  return rule.variables?.CACHE_POLICY ?? raw.variables.CACHE_POLICY;
}

test("caches: merge-request, branch and tag pipelines only read; the default branch writes; keys split by ref protection", () => {
  const main = { CI_DEFAULT_BRANCH: "main", CI_PIPELINE_SOURCE: "push" };
  assert.equal(cachePolicyFor({ ...main, CI_PIPELINE_SOURCE: "merge_request_event", CI_MERGE_REQUEST_IID: "7" }), "pull");
  assert.equal(cachePolicyFor({ ...main, CI_COMMIT_BRANCH: "main" }), "pull-push");
  assert.equal(cachePolicyFor({ ...main, CI_COMMIT_BRANCH: "feature/x" }), "pull");
  assert.equal(cachePolicyFor({ ...main, CI_COMMIT_TAG: "v1.0.0" }), "pull");
  assert.equal(raw.variables.CACHE_POLICY, "pull", "read-only unless a rule says otherwise");
  const writers = raw.workflow.rules.filter((rule) => rule.variables?.CACHE_POLICY && rule.variables.CACHE_POLICY !== "pull");
  assert.deepEqual(writers.map((rule) => rule.if), ["$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"], "only the default branch writes");
  const cached = Object.entries(jobs).filter(([, job]) => job.cache);
  assert.ok(cached.length >= 2);
  for (const [name, job] of cached) {
    for (const cache of [].concat(job.cache)) {
      assert.ok(["$CACHE_POLICY", "pull"].includes(cache.policy), `${name}: cache policy ${cache.policy}`);
      assert.match(cache.key.prefix ?? "", /\$CI_COMMIT_REF_PROTECTED/, `${name}: key split by ref protection`);
      assert.notEqual(cache.unprotect, true, `${name}: keeps GitLab's protected/unprotected split`);
    }
  }
  assert.equal(raw.default?.cache, undefined, "no default cache outside these rules");
});

test("the delivery checks run in the lint stage", () => {
  assert.match(scriptOf(jobs["lint:delivery"]), /bash tests\/Delivery\/run\.sh/);
  assert.equal(jobs["lint:delivery"].stage, "lint");
});

// --- gitlab-ci-local: GitLab's own parsing rules and schema, nothing executed ----------------------------

const gitlabCiLocal = path.join(deliveryDir, "node_modules/gitlab-ci-local/src/index.js");
const templatesUrl = "gitlab.com/gitlab-org/gitlab/-/raw/HEAD/lib/gitlab/ci/templates/Jobs";
const templateFixtures = path.join(deliveryDir, "fixtures/gitlab-templates");

function listJobs(branch) {
  const dir = mkdtempSync(path.join(tmpdir(), "bot-gcl-"));
  try {
    const git = (...args) => {
      const result = spawnSync("git", args, { cwd: dir, encoding: "utf8" });
      assert.equal(result.status, 0, `git ${args.join(" ")}: ${result.stderr}`);
    };
    copyFileSync(pipelineFile, path.join(dir, ".gitlab-ci.yml"));
    // gitlab-ci-local would fetch the included templates from gitlab.com; it reads its include cache first.
    const cache = path.join(dir, ".gitlab-ci-local/includes", templatesUrl);
    mkdirSync(cache, { recursive: true });
    for (const entry of [].concat(raw.include)) {
      const name = path.basename(entry.template);
      copyFileSync(path.join(templateFixtures, name), path.join(cache, name));
    }
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
  for (const name of ["sbom:binary", "sbom:image", "container_scanning", "sign:image", "verify:image"]) {
    assert.ok(byName[name], `${name} listed`);
    assert.ok(order.indexOf("build:image") < order.indexOf(name), `${name} after build:image`);
  }
  assert.ok(order.indexOf("sign:image") < order.indexOf("verify:image"));
  assert.ok(order.indexOf("verify:image") < order.indexOf("deploy:dev"));
  assert.equal(byName.container_scanning.stage, "attest", "the template's job moved after the push");
  assert.deepEqual(byName.container_scanning.needs, ["build:image"]);
  assert.deepEqual(byName["sbom:image"].needs, ["build:image"]);
  assert.deepEqual(byName["sign:image"].needs, ["build:image", "sbom:image"]);
  assert.deepEqual(byName["verify:image"].needs, ["build:image", "sign:image"]);
  assert.ok(order.indexOf("build:image") < order.indexOf("deploy:dev"));
  assert.ok(order.indexOf("deploy:dev") < order.indexOf("deploy:staging"));
  assert.ok(order.indexOf("deploy:staging") < order.indexOf("deploy:production"));
  const common = ["build:image", "package:chart", "verify:image", "resource-groups:oldest-first"];
  assert.deepEqual(byName["deploy:dev"].needs, common);
  assert.deepEqual(byName["deploy:staging"].needs, [...common, "deploy:dev"]);
  assert.deepEqual(byName["deploy:production"].needs, [...common, "smoke:staging"]);
  for (const name of ["package:chart", "resource-groups:oldest-first", "lint:terraform: [dev]", "lint:terraform: [staging]", "lint:terraform: [prod]"]) {
    assert.ok(byName[name], `${name} listed`);
  }
  assert.equal(byName["plan:terraform: [dev, dev]"], undefined, "no plan without TERRAFORM_PLAN");
  assert.equal(byName["deploy:production"].when, "manual");
  assert.equal(byName["deploy:production"].allowFailure, "false", "production blocks the pipeline until someone decides");
  assert.equal(byName["deploy:staging"].when, "on_success");
  for (const environment of ["dev", "staging", "production"]) assert.equal(byName[`rollback:${environment}`]?.when, "manual");
});

test("gitlab-ci-local --list on a feature branch: tested, built, SBOMs and scan, never signed or deployed", () => {
  const names = listJobs("feature/change").map((job) => job.name);
  for (const name of ["lint:delivery", "test:dotnet", "build:image", "sbom:binary", "sbom:image", "container_scanning"]) {
    assert.ok(names.includes(name), name);
  }
  assert.deepEqual(names.filter((name) => /^(deploy|rollback|smoke|test:staging|sign|verify|package:chart|resource-groups|plan:)/.test(name)), []);
  assert.ok(names.includes("secret_detection"), "secret detection on every branch");
});

// --- reports, security templates, Terraform, the chart package, resource groups -----------------------------

// Every job that runs tests reports them to GitLab (artifacts:reports:junit, kept when the job fails).
const testJobNames = () => Object.keys(jobs).filter((name) => jobs[name].stage === "test" && raw[name]?.script || /^(lint:delivery|smoke:|test:)/.test(name));

function assertReportsTests(name, job) {
  assert.ok(job.artifacts?.reports?.junit, `${name}: artifacts:reports:junit (its results in GitLab's test report)`);
  assert.equal(job.artifacts.when, "always", `${name}: the report is kept when the job fails`);
}

test("every test job reports JUnit to GitLab, and test:dotnet reports Cobertura coverage", () => {
  const names = testJobNames();
  for (const expected of ["test:dotnet", "lint:delivery", "smoke:staging", "test:staging:helm"]) assert.ok(names.includes(expected), expected);
  for (const name of names) assertReportsTests(name, jobs[name]);
  // The check itself: a test job without the report fails it.
  const { reports: _dropped, ...withoutReports } = jobs["test:dotnet"].artifacts;
  assert.throws(() => assertReportsTests("test:dotnet", { ...jobs["test:dotnet"], artifacts: withoutReports }), /reports:junit/);

  const dotnet = jobs["test:dotnet"];
  assert.equal(dotnet.artifacts.reports.junit, "artifacts/test-results/*.junit.xml");
  assert.deepEqual(dotnet.artifacts.reports.coverage_report, { coverage_format: "cobertura", path: "artifacts/test-results/*.cobertura.*.xml" });
  // What scripts/test.sh writes and prints is what the job reads.
  const testScript = readFileSync(path.join(repoRoot, "scripts/test.sh"), "utf8");
  assert.match(testScript, /--report-xunit-junit-filename "\$name\.junit\.xml"/);
  assert.match(testScript, /--coverlet-output-format cobertura --coverlet-file-prefix "\$name"/);
  const printed = /printf "(test: line coverage %\.1f%%[^"]*)"/.exec(testScript)[1].replace("%.1f%%", "42.9%").replace(/%d/g, "1");
  const coverage = new RegExp(dotnet.coverage.slice(1, -1));
  assert.equal(coverage.exec(printed)?.[1], "42.9", `${dotnet.coverage} reads "${printed}"`);
  // The delivery checks write both of their reports where the job collects them.
  const run = readFileSync(path.join(deliveryDir, "run.sh"), "utf8");
  assert.equal(jobs["lint:delivery"].artifacts.reports.junit, "artifacts/test-results/delivery*.junit.xml");
  assert.match(run, /reports="\$root\/artifacts\/test-results"/);
  assert.match(run, /"\$reports\/delivery\.junit\.xml"/);
  assert.match(run, /--test-reporter=junit --test-reporter-destination="\$reports\/delivery-node\.junit\.xml"/);
  assert.equal(jobs["smoke:staging"].artifacts.reports.junit, "artifacts/smoke/smoke-junit.xml");
  assert.match(scriptOf(jobs["smoke:staging"]), /-e SUMMARY_DIR=artifacts\/smoke/);
  assert.equal(jobs["test:staging:helm"].artifacts.reports.junit, "artifacts/helm-test/junit.xml");
  assert.match(scriptOf(jobs["test:staging:helm"]), /\} > artifacts\/helm-test\/junit\.xml\nexit "\$status"/);
});

test("GitLab's SAST, secret detection and dependency scanning templates run beside the tests", () => {
  const templates = [].concat(raw.include).map((entry) => entry.template);
  for (const template of ["Jobs/SAST.gitlab-ci.yml", "Jobs/Secret-Detection.gitlab-ci.yml", "Jobs/Dependency-Scanning.gitlab-ci.yml", "Jobs/Container-Scanning.gitlab-ci.yml"]) {
    assert.ok(templates.includes(template), template);
  }
  for (const name of ["sast", "secret_detection", "dependency_scanning"]) assert.deepEqual(raw[name].needs, [], `${name} waits for nothing`);
  // The fixtures' deliberately fake secrets are not findings; the code under src/ is always scanned.
  for (const variable of ["SAST_EXCLUDED_PATHS", "DS_EXCLUDED_PATHS", "SECRET_DETECTION_EXCLUDED_PATHS"]) {
    assert.doesNotMatch(String(raw.variables[variable]), /\bsrc\b/, variable);
  }
});

test("terraform validate runs for every environment root, and plan only where its credentials are configured", () => {
  const roots = readdirSync(path.join(repoRoot, "terraform/environments")).sort();
  const lint = jobs["lint:terraform"];
  assert.deepEqual([...lint.parallel.matrix[0].TF_ENVIRONMENT].sort(), roots);
  assert.match(scriptOf(lint), /terraform -chdir="terraform\/environments\/\$TF_ENVIRONMENT" init -backend=false -input=false -lockfile=readonly/);
  assert.match(scriptOf(lint), /terraform -chdir="terraform\/environments\/\$TF_ENVIRONMENT" validate/);
  const plan = jobs["plan:terraform"];
  assert.deepEqual(plan.parallel.matrix.map((entry) => entry.TF_ENVIRONMENT).sort(), roots);
  assert.deepEqual(plan.parallel.matrix.map((entry) => entry.ENVIRONMENT_NAME).sort(), ["dev", "production", "staging"]);
  assert.deepEqual(plan.environment, { name: "$ENVIRONMENT_NAME", action: "prepare" }, "environment-scoped credentials, no deployment recorded");
  assert.deepEqual(plan.rules, [{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $TERRAFORM_PLAN == "true"' }]);
  assert.match(scriptOf(plan), /terraform plan -input=false -lock=false -out=plan\.tfplan/);
  assert.doesNotMatch(scriptOf(plan), /terraform apply/);
  // Terraform itself comes from HashiCorp's release, checked against its SHA256SUMS, on a pinned image.
  for (const name of ["lint:terraform", "plan:terraform", "lint:delivery"]) {
    assert.match(scriptOf(jobs[name]), /\| sha256sum -c -/, name);
    assert.equal(jobs[name].image, "$NODE_IMAGE", name);
  }
});

test("package:chart packages the chart with the image's version as appVersion and pushes it to the OCI registry", () => {
  const job = jobs["package:chart"];
  const script = scriptOf(job);
  assert.equal(job.stage, "build");
  assert.match(script, /app_version="\$\{CI_COMMIT_TAG:-\$CI_COMMIT_SHORT_SHA\}"/);
  assert.match(scriptOf(jobs["build:image"]), /--build-arg VERSION="\$\{CI_COMMIT_TAG:-\$CI_COMMIT_SHORT_SHA\}"/, "the image's own version");
  assert.match(script, /helm package "\$CHART" --version "\$chart_version" --app-version "\$app_version"/);
  assert.match(script, /helm push "artifacts\/chart\/\$RELEASE_NAME-\$chart_version\.tgz" "\$CHART_REPOSITORY"/);
  assert.equal(raw.variables.CHART_REPOSITORY, "oci://$CI_REGISTRY_IMAGE/charts");
  assert.match(script, /echo "CHART_VERSION=\$chart_version" > chart\.env/);
  assert.equal(job.artifacts.reports.dotenv, "chart.env");
  assert.deepEqual(job.rules, [{ if: "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" }, { if: "$CI_COMMIT_TAG" }]);
});

test("rollback jobs report which digest and chart run after them (dotenv on the deployment's job)", () => {
  for (const environment of ["dev", "staging", "production"]) {
    const job = jobs[`rollback:${environment}`];
    assert.equal(job.artifacts.reports.dotenv, "rollback.env");
    assert.match(scriptOf(job), /echo "IMAGE_DIGEST=\$digest"; echo "DEPLOYED_CHART=\$chart"; \} > rollback\.env/);
  }
});

test("the resource groups process oldest first: set through GitLab's API before any deploy", () => {
  const job = jobs["resource-groups:oldest-first"];
  const groups = [...new Set(Object.values(jobs).map((candidate) => candidate.resource_group).filter(Boolean))].sort();
  assert.deepEqual(groups, ["dev", "production", "staging"]);
  const called = /sh deploy\/gitlab\/resource-groups\.sh ((?:\w+ ?)+)$/m.exec(scriptOf(job))[1].trim().split(" ").sort();
  assert.deepEqual(called, groups, "every resource group the pipeline uses");
  for (const [name, deploy] of deployJobs) assert.ok(needsJob(deploy, "resource-groups:oldest-first"), `${name} waits for it`);
  assert.deepEqual(job.rules, [{ if: "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" }]);
});

// GitLab's resource group API as the script meets it: PUT with the token, 200 with the group, 404 before the
// group's first job, 401 for a wrong token.
async function withGitLab(handler, run) {
  const calls = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      calls.push({ method: req.method, url: req.url, token: req.headers["private-token"], body });
      handler(req, res, body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    return await run(`http://127.0.0.1:${server.address().port}/api/v4`, calls);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

async function resourceGroups(api, env, groups) {
  const child = spawn("sh", [path.join(repoRoot, "deploy/gitlab/resource-groups.sh"), ...groups], {
    env: { PATH: process.env.PATH, CI_API_V4_URL: api, CI_PROJECT_ID: "42", ...env },
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const [code] = await once(child, "exit");
  return { code, output };
}

const token = "glpat-resource-group-test-token";
const gitlabApi = (req, res, body) => {
  const key = /\/resource_groups\/([^/?]+)$/.exec(req.url)?.[1];
  if (req.headers["private-token"] !== token) return res.writeHead(401).end('{"message":"401 Unauthorized"}');
  if (key === "production") return res.writeHead(404).end('{"message":"404 Not found"}');
  const mode = new URLSearchParams(body).get("process_mode");
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: 1, key, process_mode: mode }));
};

test("resource-groups.sh sets oldest_first on each group, names a group not yet created, and fails on a refused or missing token", async () => {
  await withGitLab(gitlabApi, async (api, calls) => {
    const ok = await resourceGroups(api, { RESOURCE_GROUP_TOKEN: token }, ["dev", "staging", "production"]);
    assert.equal(ok.code, 0, ok.output);
    assert.deepEqual(calls.map((call) => `${call.method} ${call.url} ${call.body}`), [
      "PUT /api/v4/projects/42/resource_groups/dev process_mode=oldest_first",
      "PUT /api/v4/projects/42/resource_groups/staging process_mode=oldest_first",
      "PUT /api/v4/projects/42/resource_groups/production process_mode=oldest_first",
    ]);
    assert.ok(calls.every((call) => call.token === token));
    assert.match(ok.output, /dev processes oldest first/);
    assert.match(ok.output, /production does not exist yet/);
    assert.doesNotMatch(ok.output, new RegExp(token), "the token is never printed");

    const refused = await resourceGroups(api, { RESOURCE_GROUP_TOKEN: "glpat-wrong" }, ["dev"]);
    assert.equal(refused.code, 1);
    assert.match(refused.output, /refused RESOURCE_GROUP_TOKEN \(401\): it needs the api scope and the Maintainer role/);
    assert.doesNotMatch(refused.output, /glpat-wrong/);

    const missing = await resourceGroups(api, {}, ["dev"]);
    assert.equal(missing.code, 1);
    assert.match(missing.output, /RESOURCE_GROUP_TOKEN is not set/);
  });
  // A GitLab that takes the call but keeps another mode fails the job too.
  await withGitLab((req, res) => res.writeHead(200).end('{"key":"dev","process_mode":"unordered"}'), async (api) => {
    const kept = await resourceGroups(api, { RESOURCE_GROUP_TOKEN: token }, ["dev"]);
    assert.equal(kept.code, 1, kept.output);
    assert.match(kept.output, /without process_mode oldest_first/);
  });
});
