// The database as the chart and Terraform describe it: connections verify the server's certificate
// against CloudNativePG's CA on the read-write service, and commits wait for a synchronous standby.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { chartDir, docsOf, envValue, environments, loadYamlFile, named, podSpecs, repoRoot, runHelm, sentinelDigest } from "./lib.mjs";

const terraform = (file) => readFileSync(path.join(repoRoot, "terraform", file), "utf8");

/** The container's mount at mountPath and the pod volume behind it. */
function mountAt(spec, container, mountPath) {
  const mount = container.volumeMounts?.find((entry) => entry.mountPath === mountPath);
  return { mount, volume: mount && spec.volumes.find((volume) => volume.name === mount.name) };
}

test("prod: the bot connects with SSL Mode=VerifyFull to the -rw service, with CloudNativePG's CA mounted read-only", () => {
  const docs = docsOf("prod");
  const connecting = podSpecs(docs).filter(({ spec }) =>
    spec.containers.some((container) => envValue(container, "Database__ConnectionString")));
  assert.ok(connecting.some(({ where }) => where === "Deployment/bot"), "the bot");
  assert.ok(connecting.some(({ where }) => where === "Job/bot-migrate"), "the migration Job");
  for (const { where, spec } of connecting) {
    for (const container of spec.containers.filter((c) => envValue(c, "Database__ConnectionString"))) {
      const settings = Object.fromEntries(envValue(container, "Database__ConnectionString").split(";").map((part) => {
        const at = part.indexOf("=");
        return [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()];
      }));
      assert.match(settings.host, /-rw$/, `${where}: the read-write service`);
      assert.equal(settings["ssl mode"], "VerifyFull", `${where}: the certificate is verified, host name included`);
      assert.equal(settings["root certificate"], "/etc/bot/db-ca/ca.crt", `${where}: Root Certificate`);
      if (where === "Job/bot-webhook-set") continue; // it never opens the database (no database egress either)
      const { mount, volume } = mountAt(spec, container, "/etc/bot/db-ca");
      assert.ok(mount, `${where}: the CA is mounted at /etc/bot/db-ca`);
      assert.equal(mount.readOnly, true, `${where}: read-only`);
      assert.ok(!mount.subPath, `${where}: a directory mount, so that a renewed CA reaches the pod`);
      assert.equal(volume.secret?.secretName, "bot-db-ca", `${where}: CloudNativePG's <cluster>-ca Secret`);
      assert.deepEqual(volume.secret.items, [{ key: "ca.crt", path: "ca.crt" }], `${where}: its ca.crt`);
    }
  }
  const backup = named(docs, "CronJob", "bot-backup").spec.jobTemplate.spec.template.spec;
  for (const container of [...(backup.initContainers ?? []), ...backup.containers].filter((c) => envValue(c, "PGHOST"))) {
    assert.match(envValue(container, "PGHOST"), /-rw$/);
    assert.equal(envValue(container, "PGSSLMODE"), "verify-full", `backup ${container.name}: libpq verifies too`);
    assert.equal(envValue(container, "PGSSLROOTCERT"), "/etc/bot/db-ca/ca.crt");
    const { mount, volume } = mountAt(backup, container, "/etc/bot/db-ca");
    assert.ok(mount?.readOnly && !mount.subPath && volume.secret.secretName === "bot-db-ca", `backup ${container.name}: the CA`);
  }
});

test("staging and prod: lag-tolerant reads go to the -ro service with the primary's settings; dev has no standby and no read string", () => {
  const parts = (text) => Object.fromEntries(text.split(";").map((part) => {
    const at = part.indexOf("=");
    return [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()];
  }));
  for (const env of ["staging", "prod"]) {
    const bot = named(docsOf(env), "Deployment", "bot").spec.template.spec.containers.find((c) => c.name === "bot");
    const primary = parts(envValue(bot, "Database__ConnectionString"));
    const read = parts(envValue(bot, "Database__ReadConnectionString") ?? "");
    assert.equal(read.host, "bot-db-ro", `${env}: CloudNativePG's standbys' service`);
    assert.deepEqual({ ...read, host: primary.host }, primary, `${env}: every other setting as the primary's (TLS, CA, pool)`);
  }
  const dev = named(docsOf("dev"), "Deployment", "bot").spec.template.spec.containers.find((c) => c.name === "bot");
  assert.equal(envValue(dev, "Database__ReadConnectionString"), undefined);
  const refused = runHelm(["template", "bot", chartDir, "--set", "database.readHost=bot-db-ro", "--set", "secrets.existingSecret=s",
    "--set", `image.digest=${sentinelDigest}`]);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /database\.readHost needs database\.host/);
  const injected = runHelm(["template", "bot", chartDir, "-f", path.join(chartDir, "values-prod.yaml"),
    "--set", "database.readHost=bot-db-ro;Password=x", "--set", `image.digest=${sentinelDigest}`]);
  assert.notEqual(injected.status, 0, "a host cannot carry other keywords");
});

test("Terraform: synchronous quorum replication with required durability where there is a standby, asynchronous only in dev", () => {
  const main = terraform("modules/bot-environment/main.tf");
  assert.match(main, /synchronous = local\.synchronous \? \{\s*method\s*= "any"\s*number\s*= var\.database\.synchronous_standbys\s*dataDurability = var\.database\.synchronous_data_durability/);
  const variables = terraform("modules/bot-environment/variables.tf");
  assert.match(variables, /synchronous_replication\s*= optional\(bool, true\)/);
  assert.match(variables, /synchronous_standbys\s*= optional\(number, 1\)/);
  assert.match(variables, /synchronous_data_durability = optional\(string, "required"\)/);
  assert.match(variables, /synchronous_standbys < var\.database\.instances/, "a standby must exist for each confirmation");
  const instances = (env) => Number(/^\s*instances\s*=\s*(\d+)/m.exec(terraform(`environments/${env}/main.tf`))[1]);
  const off = (env) => /synchronous_replication\s*=\s*false/.test(terraform(`environments/${env}/main.tf`));
  assert.equal(instances("dev"), 1);
  assert.ok(off("dev"), "dev's single instance is asynchronous, and says so");
  for (const env of ["staging", "prod"]) {
    assert.ok(instances(env) >= 2, `${env}: a standby to wait for`);
    assert.ok(!off(env), `${env}: synchronous`);
    assert.doesNotMatch(terraform(`environments/${env}/main.tf`), /synchronous_data_durability\s*=\s*"preferred"/, `${env}: required`);
  }
});

test("Terraform: each values file names its cluster's CA Secret, which the module checks", () => {
  const main = terraform("modules/bot-environment/main.tf");
  assert.match(main, /database_ca = local\.cnpg \? "\$\{var\.database\.cluster_name\}-ca" : null/);
  assert.match(main, /contains\(\["", local\.database_ca\], local\.values_database_ca\)/);
});

// --- the connection budget ---------------------------------------------------------------------------

/** values.yaml with the environment's file over it (maps merge, everything else is replaced). */
function valuesOf(env) {
  const merge = (base, over) => {
    if (!over || typeof over !== "object" || Array.isArray(over) || !base || typeof base !== "object" || Array.isArray(base)) return over ?? base;
    const out = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = merge(base[key], value);
    return out;
  };
  return merge(loadYamlFile(path.join(chartDir, "values.yaml")), loadYamlFile(path.join(chartDir, `values-${env}.yaml`)));
}

// Npgsql's keywords for the pool's ceiling, compared without case and spaces; absent, the ceiling is 100.
const poolKeywords = new Set(["maximumpoolsize", "maxpoolsize"]);
const npgsqlDefaultPool = 100;
// Each replica opens two sessions of its own beyond the pool: the LISTEN/NOTIFY listener, and the session
// holding the advisory leader lock (leaderElection.mode Postgres; with the Lease it is not opened, but it is
// counted anyway, so that switching modes never breaks the budget).
const sessionsPerReplica = 2;

/** What one environment's rendering can open at most, and what its database allows. */
function budgetOf(env) {
  const docs = docsOf(env);
  const deployment = docs.find((doc) => doc.kind === "Deployment");
  const hpa = docs.find((doc) => doc.kind === "HorizontalPodAutoscaler");
  const bot = deployment.spec.template.spec.containers.find((container) => container.name === "bot");
  let pool = npgsqlDefaultPool;
  for (const part of envValue(bot, "Database__ConnectionString").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && poolKeywords.has(part.slice(0, at).replace(/\s+/g, "").toLowerCase())) pool = Number(part.slice(at + 1));
  }
  const maxReplicas = hpa ? hpa.spec.maxReplicas : deployment.spec.replicas;
  const strategy = deployment.spec.strategy ?? {};
  const maxSurge = strategy.type === "Recreate" ? 0 : (strategy.rollingUpdate?.maxSurge ?? "25%");
  const surge = typeof maxSurge === "string" && maxSurge.endsWith("%")
    ? Math.ceil((maxReplicas * Number(maxSurge.slice(0, -1))) / 100) : Number(maxSurge);
  const values = valuesOf(env);
  const perPod = pool + sessionsPerReplica;
  const needed = (maxReplicas + surge) * perPod;
  const allowed = values.database.maxConnections - values.database.connectionReserve;
  return { pool, maxReplicas, surge, perPod, needed, allowed, maxConnections: values.database.maxConnections, reserve: values.database.connectionReserve };
}

for (const env of environments) {
  test(`${env}: at most maxReplicas × (pool + 2 sessions) + the surge pods fit in max_connections less the reserve`, () => {
    const b = budgetOf(env);
    assert.ok(Number.isInteger(b.pool) && b.pool > 0, `a pool size, got ${b.pool}`);
    assert.ok(b.reserve >= 10, "the reserve covers superuser_reserved_connections (3), the migration, backup and restore-check Jobs and CloudNativePG's own sessions");
    assert.ok(b.needed <= b.allowed,
      `${b.maxReplicas} replicas × (${b.pool} pooled + ${sessionsPerReplica}) + ${b.surge} surge × ${b.perPod} = ${b.needed} connections, ` +
      `but max_connections ${b.maxConnections} − reserve ${b.reserve} = ${b.allowed}`);
  });

  test(`${env}: database.maxConnections is what Terraform gives the server`, () => {
    const module = terraform("modules/bot-environment/main.tf");
    const root = terraform(`environments/${env}/main.tf`);
    const setting = (text) => /^\s*max_connections\s*=\s*"(\d+)"/m.exec(text)?.[1];
    const serverMax = Number(setting(root) ?? setting(module));
    assert.ok(serverMax > 0, "max_connections in terraform");
    assert.equal(valuesOf(env).database.maxConnections, serverMax, `values-${env}.yaml database.maxConnections`);
  });
}
