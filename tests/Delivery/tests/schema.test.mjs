// values.schema.json and the chart's own rules bite: a broken values file fails `helm lint` and
// `helm template` with a message that says why. Each case has a passing control with the same command.
import test from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { chartDir, deliveryDir, runHelm, sentinelDigest } from "./lib.mjs";

const invalid = (name) => path.join(deliveryDir, "fixtures/invalid", name);
const prod = ["-f", path.join(chartDir, "values-prod.yaml")];
const digest = ["--set", `image.digest=${sentinelDigest}`];
const schemaError = /values don't meet the specifications of the schema/;

const cases = [
  { name: "an unknown key", args: [...prod, ...digest, "-f", invalid("unknown-key.yaml")], error: /replicaCout|additional properties/i },
  { name: "an environment outside the enum", args: [...prod, ...digest, "-f", invalid("bad-environment.yaml")], error: /environment/ },
  { name: "a Telegram mode outside the enum", args: [...prod, ...digest, "-f", invalid("bad-mode.yaml")], error: /mode/ },
  { name: "a malformed digest", args: [...prod, "-f", invalid("bad-digest.yaml")], error: /digest/ },
  { name: "a writable root filesystem", args: [...prod, ...digest, "-f", invalid("writable-root.yaml")], error: /readOnlyRootFilesystem/ },
  { name: "privilege escalation", args: [...prod, ...digest, "-f", invalid("privilege-escalation.yaml")], error: /allowPrivilegeEscalation/ },
  { name: "a misspelt feature flag setting", args: [...prod, ...digest, "-f", invalid("bad-feature-flag.yaml")], error: /featureFlags|RolloutPercent/ },
  { name: "a secret in appsettings.json", args: [...prod, ...digest, "-f", invalid("secret-in-config.yaml")], error: /config/ },
  { name: "an admin read token shorter than 16 characters", args: [...prod, ...digest, "--set", "secrets.adminReadToken=too-short"], error: /adminReadToken/ },
  { name: "an admin token with surrounding white space", args: [...prod, ...digest, "--set", "secrets.adminPreviousToken=previous-token-0123456789 "], error: /adminPreviousToken/ },
];

test("control: the production values with a digest pass lint and template", () => {
  const lint = runHelm(["lint", "--strict", chartDir, ...prod, ...digest]);
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  const template = runHelm(["template", "bot", chartDir, ...prod, ...digest]);
  assert.equal(template.status, 0, template.stderr);
});

for (const { name, args, error } of cases) {
  test(`the schema rejects ${name} (helm lint and helm template fail)`, () => {
    const lint = runHelm(["lint", "--strict", chartDir, ...args]);
    assert.notEqual(lint.status, 0, "helm lint passed");
    assert.match(lint.stdout + lint.stderr, schemaError);
    assert.match(lint.stdout + lint.stderr, error);
    const template = runHelm(["template", "bot", chartDir, ...args]);
    assert.notEqual(template.status, 0, "helm template passed");
    assert.match(template.stderr, schemaError);
  });
}

test("the chart refuses a grace period shorter than preStop + drain + shutdown timeout", () => {
  const template = runHelm(["template", "bot", chartDir, ...prod, ...digest, "-f", invalid("short-grace-period.yaml")]);
  assert.notEqual(template.status, 0);
  assert.match(template.stderr, /terminationGracePeriodSeconds \(10\) must be at least/);
});

test("the chart refuses an install with neither an existing Secret nor the secret values", () => {
  const template = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set", "secrets.existingSecret="]);
  assert.notEqual(template.status, 0);
  assert.match(template.stderr, /secrets: set secrets.existingSecret/);
});

test("the chart refuses webhook mode without a public URL", () => {
  const template = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set", "ingress.enabled=false"]);
  assert.notEqual(template.status, 0);
  assert.match(template.stderr, /webhook mode needs telegram.webhookUrl/);
});

// The chart's own Secret with every admin token set (tests/Delivery/fixtures/sentinel-secrets.yaml).
const sentinel = [...prod, ...digest, "-f", path.join(deliveryDir, "fixtures/sentinel-secrets.yaml")];

test("the chart refuses a previous read token without a read token", () => {
  const template = runHelm(["template", "bot", chartDir, ...sentinel, "--set", "secrets.adminReadToken="]);
  assert.notEqual(template.status, 0);
  assert.match(template.stderr, /adminPreviousReadToken needs secrets.adminReadToken/);
});

test("the chart refuses one value under two admin token names", () => {
  const template = runHelm(["template", "bot", chartDir, ...sentinel, "--set", "secrets.adminReadToken=SENTINEL-admin-token-0123456789"]);
  assert.notEqual(template.status, 0);
  assert.match(template.stderr, /must all differ/);
});

test("the chart refuses a connection budget that does not fit the server, in one sentence", () => {
  const template = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set", "autoscaling.maxReplicas=20"]);
  assert.notEqual(template.status, 0, "rendered 20 replicas × 22 + 22 against 290");
  assert.match(template.stderr, /database: 20 replicas at most and 1 surge pod\(s\), each with Maximum Pool Size 20 and 2 sessions of its own, can open 462 connections, more than database\.maxConnections 300 less connectionReserve 10 \(290\), so lower database\.maxPoolSize or the replica ceiling, or raise max_connections on the server and database\.maxConnections with it\n/);
  const defaultPool = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set", "database.maxPoolSize=null"]);
  assert.notEqual(defaultPool.status, 0, "Npgsql's default pool of 100 is counted when none is given");
  assert.match(defaultPool.stderr, /Maximum Pool Size 100 and 2 sessions of its own, can open 1122 connections/);
  const keyword = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set", "database.extraParameters=Timeout=5;Maximum Pool Size=5"]);
  assert.notEqual(keyword.status, 0);
  assert.match(keyword.stderr, /database\.extraParameters names the pool size: set database\.maxPoolSize instead/);
});

test("the chart refuses unencrypted backups in Staging and Production, plain copies off the cluster, and a restore check without the key", () => {
  const plain = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set", "backup.encryption.publicKeySecret.name="]);
  assert.notEqual(plain.status, 0);
  assert.match(plain.stderr, /backup: in Production every dump is encrypted, so set backup\.encryption\.publicKeySecret\.name/);
  const noKey = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set", "restoreCheck.decryption.privateKeySecret.name="]);
  assert.notEqual(noKey.status, 0);
  assert.match(noKey.stderr, /restoreCheck: the backups are encrypted \(backup\.encryption\), so set restoreCheck\.decryption\.privateKeySecret\.name/);
  const dev = ["-f", path.join(chartDir, "values-dev.yaml"), ...digest, "--set", "backup.enabled=true", "--set", "backup.offsite.enabled=true",
    "--set", "backup.offsite.bucketUrl=https://minio.example.com/b", "--set", "backup.offsite.credentialsSecret.name=s"];
  const plainOffsite = runHelm(["template", "bot", chartDir, ...dev]);
  assert.notEqual(plainOffsite.status, 0);
  assert.match(plainOffsite.stderr, /backup\.offsite sends dumps off the cluster only encrypted/);
  const devPlain = runHelm(["template", "bot", chartDir, "-f", path.join(chartDir, "values-dev.yaml"), ...digest, "--set", "backup.enabled=true"]);
  assert.equal(devPlain.status, 0, `Development may keep plain dumps on its volume: ${devPlain.stderr}`);
});

test("the chart refuses Production's restore check on the bot's own server unless told, and an object store it cannot name", () => {
  const onPrimary = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set", "restoreCheck.target.host="]);
  assert.notEqual(onPrimary.status, 0);
  assert.match(onPrimary.stderr, /restoreCheck\.target\.host: in Production the restore check restores into a server of its own/);
  const allowed = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set", "restoreCheck.target.host=", "--set", "restoreCheck.target.allowDatabaseHost=true"]);
  assert.equal(allowed.status, 0, allowed.stderr);
  const noStore = runHelm(["template", "bot", chartDir, ...prod, ...digest, "--set-json", "networkPolicy.objectStore.cidrs=[]"]);
  assert.notEqual(noStore.status, 0);
  assert.match(noStore.stderr, /networkPolicy\.objectStore\.cidrs is empty, so the backup pods could not reach backup\.offsite's bucket/);
});
