// The chart installs with its defaults and one value (the Secret it reads), and every value a user must supply
// is asked for by the templates in one sentence that names it and says what to set, never by a schema
// conditional ("Must validate "then" as "if" was valid"). The installs of charts/bot/ci lint and render.
// Where the pod's extension points (fixtures/extras.yaml) land: chart.test.mjs.
import test from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";
import { chartDir, named, ofKind, runHelm, sentinelDigest } from "./lib.mjs";

const digest = ["--set", `image.digest=${sentinelDigest}`];
const prod = ["-f", path.join(chartDir, "values-prod.yaml")];
const existing = ["--set", "secrets.existingSecret=bot-secrets"];
// A chart-managed Secret with everything set; each case below takes one value away.
const own = ["--set", "secrets.botToken=123456789:required-values-test-token-aaaaaaaa", "--set", "secrets.webhookSecret=required-values-webhook-secret",
  "--set", "secrets.adminToken=required-values-admin-token-0123", "--set", "secrets.databasePassword=required-values-db-password", "--set", "database.host=postgres.test.svc"];
const without = (args, name) => {
  const index = args.findIndex((arg) => arg.startsWith(`${name}=`));
  assert.ok(index > 0, name);
  return [...args.slice(0, index - 1), ...args.slice(index + 1)];
};

function render(args) {
  return runHelm(["template", "bot", chartDir, ...args]);
}

test("the defaults with the Secret's name lint (--strict) and render", () => {
  const lint = runHelm(["lint", "--strict", chartDir, ...existing]);
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  assert.doesNotMatch(lint.stdout, /\[INFO\] Fail:/, "lint met a failing template");
  const template = render(existing);
  assert.equal(template.status, 0, template.stderr);
  assert.match(template.stdout, /^kind: Deployment$/m);
  assert.match(template.stdout, /image: registry\.gitlab\.com\/community\/bot:0\.1\.0$/m, "the chart's appVersion as the tag");
  // And the bare defaults lint too (a platform engineer's first command), the missing Secret reported in lint's words.
  const bare = runHelm(["lint", "--strict", chartDir]);
  assert.equal(bare.status, 0, bare.stdout + bare.stderr);
  assert.doesNotMatch(bare.stdout + bare.stderr, /Must validate|"then"|"if"/);
});

const cases = [
  { missing: "every Secret value", args: [], says: "secrets: set secrets.existingSecret, or secrets.botToken for a chart-managed Secret" },
  { missing: "secrets.webhookSecret", args: without(own, "secrets.webhookSecret"), says: "secrets: webhook mode needs secrets.webhookSecret (or secrets.existingSecret)" },
  { missing: "secrets.adminToken", args: without(own, "secrets.adminToken"), says: "secrets: set secrets.adminToken (or secrets.existingSecret)" },
  { missing: "the database password", args: without(own, "secrets.databasePassword"), says: "secrets: set secrets.databasePassword, secrets.databaseConnectionString or database.passwordSecret.name" },
  { missing: "database.host", args: without(own, "database.host"), says: "database: set database.host (or a complete connection string in the Secret)" },
  { missing: "secrets.adminReadToken beside adminPreviousReadToken", args: [...own, "--set", "secrets.adminPreviousReadToken=required-values-previous-read-0123"], says: "secrets: secrets.adminPreviousReadToken needs secrets.adminReadToken" },
  { missing: "database.host with backups", args: [...existing, "--set", "backup.enabled=true"], says: "backup/restoreCheck need database.host (they connect with libpq variables, not the bot's connection string)" },
  { missing: "a backup volume for the restore check", args: [...existing, "--set", "database.host=postgres.test.svc", "--set", "restoreCheck.enabled=true"], says: "restoreCheck reads the backup volume: enable backup or set backup.persistence.existingClaim" },
  { missing: "the encryption key of off-cluster copies", args: [...existing, "--set", "database.host=postgres.test.svc", "--set", "backup.enabled=true", "--set", "backup.offsite.enabled=true", "--set", "backup.offsite.bucketUrl=https://s3.example.com/bot", "--set", "backup.offsite.credentialsSecret.name=bot-offsite"], says: "backup.offsite sends dumps off the cluster only encrypted: set backup.encryption.publicKeySecret.name" },
  { missing: "an empty database.host beside a connection string", args: [...existing, "--set", "database.host=postgres.test.svc", "--set", "secrets.databaseConnectionString=Host=elsewhere"], says: "database: secrets.databaseConnectionString and database.host exclude each other" },
  { missing: "a public URL in webhook mode", args: [...existing, "--set", "ingress.enabled=false"], says: "telegram: webhook mode needs telegram.webhookUrl or ingress.enabled with ingress.hostname" },
  { missing: "image.digest in Production", args: [...prod], says: "image.digest is required in Production: set it to the sha256 digest of the image to run" },
  { missing: "image.digest in Staging", args: ["-f", path.join(chartDir, "values-staging.yaml")], says: "image.digest is required in Staging" },
  { missing: "an empty image.tag in Production", args: [...prod, ...digest, "--set", "image.tag=latest"], says: "image.tag is set (latest), but Production runs an image by its digest alone: leave image.tag empty and set image.digest" },
  { missing: "webhook mode in Production", args: [...prod, ...digest, "--set", "telegram.mode=Polling", "--set", "ingress.enabled=false"], says: "telegram.mode is Polling, but Production takes Telegram's updates by webhook only: set telegram.mode: Webhook" },
  { missing: "network policies in Production", args: [...prod, ...digest, "--set", "networkPolicy.enabled=false"], says: "networkPolicy.enabled is false, but Production runs behind its network policies: set networkPolicy.enabled: true" },
  { missing: "networkPolicy.database", args: [...existing, "--set", "networkPolicy.enabled=true", "--set", "leaderElection.mode=Postgres"], says: "networkPolicy.database: name the database with podSelector, namespaceSelector or cidrs" },
  { missing: "networkPolicy.kubernetesApi.cidrs with the Lease", args: [...existing, "--set", "networkPolicy.enabled=true", "--set", "networkPolicy.database.cidrs[0]=10.1.0.0/24"], says: "networkPolicy.kubernetesApi.cidrs is empty, so the bot could not reach the API server for its leader Lease" },
];

for (const { missing, args, says } of cases) {
  test(`without ${missing}, the render stops with one readable sentence`, () => {
    const template = render(args);
    assert.notEqual(template.status, 0, "rendered");
    const errors = template.stderr.split("\n").filter((line) => line.startsWith("Error:"));
    assert.equal(errors.length, 1, template.stderr);
    assert.ok(errors[0].includes(says), `${errors[0]}\nexpected: ${says}`);
    assert.doesNotMatch(template.stderr, /Must validate|"then"|"if"|don't meet the specifications of the schema/);
  });
}

const ciValues = readdirSync(path.join(chartDir, "ci")).filter((name) => name.endsWith("-values.yaml")).sort();

test("charts/bot/ci holds the lint and render matrix: webhook, polling, HA with the Lease, existing Secret", () => {
  assert.deepEqual(ciValues, ["existing-secret-values.yaml", "ha-lease-values.yaml", "polling-values.yaml", "webhook-values.yaml"]);
});

for (const name of ciValues) {
  test(`ci/${name}: helm lint --strict and helm template pass`, () => {
    const file = ["-f", path.join(chartDir, "ci", name)];
    const lint = runHelm(["lint", "--strict", chartDir, ...file]);
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.doesNotMatch(lint.stdout, /\[INFO\] Fail:/, "lint met a failing template");
    const template = render(file);
    assert.equal(template.status, 0, template.stderr);
    const docs = template.stdout;
    if (name.startsWith("polling")) assert.doesNotMatch(docs, /^kind: Ingress$/m);
    if (name.startsWith("ha-lease")) {
      assert.match(docs, /^kind: Role$/m);
      assert.match(docs, /^kind: HorizontalPodAutoscaler$/m);
      assert.match(docs, /name: Coordination__Mode\n\s+value: "Kubernetes"/);
      // More than one replica at all times, and the Lease reachable through the policies.
      const objects = yaml.loadAll(docs).filter(Boolean);
      assert.ok(ofKind(objects, "HorizontalPodAutoscaler")[0].spec.minReplicas > 1, "minReplicas > 1");
      assert.equal(ofKind(objects, "PodDisruptionBudget").length, 1);
      const policy = named(objects, "NetworkPolicy", "bot");
      assert.ok(policy.spec.egress.some((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === "10.0.0.1/32")), "egress to the API server");
    }
    if (name.startsWith("webhook")) assert.match(docs, /^kind: Secret$/m);
  });
}
