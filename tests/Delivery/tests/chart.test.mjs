// What the chart renders, environment by environment: security context, probes and shutdown, hooks,
// RBAC, secrets, ingress, image references. The network policies: networkpolicy.test.mjs.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";
import {
  annotations, chartDir, containersOf, deliveryDir, docsOf, envValue, environments, hookOf, named, ofKind, podSpecs,
  loadYamlFile, rendered, repoRoot, runHelm, sentinelDigest, telegramRanges,
} from "./lib.mjs";

const allVariants = [...environments, "sentinel", "polling"];
const botImagePattern = /(^|\/)community\/bot[@:]/;

for (const variant of allVariants) {
  test(`${variant}: every pod spec runs restricted (non-root, read-only root, no escalation, no capabilities, seccomp)`, () => {
    const specs = podSpecs(docsOf(variant));
    assert.ok(specs.length >= 3, "expected the Deployment, hook Jobs and the test pod");
    for (const { where, spec } of specs) {
      const pod = spec.securityContext ?? {};
      assert.equal(pod.runAsNonRoot, true, `${where}: pod runAsNonRoot`);
      assert.equal(pod.seccompProfile?.type, "RuntimeDefault", `${where}: pod seccompProfile`);
      assert.ok(!spec.hostNetwork && !spec.hostPID && !spec.hostIPC, `${where}: host namespaces`);
      for (const volume of spec.volumes ?? []) assert.ok(!volume.hostPath, `${where}: hostPath volume ${volume.name}`);
      for (const container of containersOf(spec)) {
        const sc = container.securityContext ?? {};
        const at = `${where}/${container.name}`;
        assert.equal(sc.runAsNonRoot ?? pod.runAsNonRoot, true, `${at}: runAsNonRoot`);
        assert.ok((sc.runAsUser ?? pod.runAsUser) > 0, `${at}: a non-zero runAsUser`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
        assert.notEqual(sc.privileged, true, `${at}: privileged`);
        assert.deepEqual(sc.capabilities?.drop, ["ALL"], `${at}: capabilities.drop`);
        assert.ok(!sc.capabilities?.add?.length, `${at}: capabilities.add`);
        assert.equal((sc.seccompProfile ?? pod.seccompProfile)?.type, "RuntimeDefault", `${at}: seccompProfile`);
        assert.ok(container.resources?.requests?.memory && container.resources?.limits?.memory, `${at}: memory request and limit`);
      }
    }
  });

  test(`${variant}: long-running pods probe /healthz and /readyz on the internal port 9090; run-to-completion pods have none`, () => {
    const docs = docsOf(variant);
    for (const { where, doc, spec } of podSpecs(docs)) {
      for (const container of spec.containers) {
        if (doc.kind !== "Deployment") {
          assert.ok(!container.livenessProbe && !container.readinessProbe, `${where}: a Job must not be killed by a probe`);
          continue;
        }
        const internal = container.ports.find((port) => port.name === "internal");
        assert.equal(internal?.containerPort, 9090, `${where}: internal port`);
        assert.equal(container.ports.find((port) => port.name === "http")?.containerPort, 8080, `${where}: public port`);
        for (const [probe, path] of [["startupProbe", "/healthz"], ["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]]) {
          assert.equal(container[probe]?.httpGet?.path, path, `${where}: ${probe} path`);
          assert.equal(container[probe]?.httpGet?.port, "internal", `${where}: ${probe} port`);
        }
      }
    }
  });
}

for (const env of environments) {
  test(`${env}: graceful shutdown: preStop sleep matches the drain, the grace period covers preStop + drain + timeout`, () => {
    const deployment = ofKind(docsOf(env), "Deployment")[0];
    const spec = deployment.spec.template.spec;
    const bot = spec.containers.find((container) => container.name === "bot");
    const drain = Number(envValue(bot, "Shutdown__DrainDelaySeconds"));
    const timeout = Number(envValue(bot, "Shutdown__TimeoutSeconds"));
    const preStop = bot.lifecycle?.preStop?.sleep?.seconds;
    assert.ok(Number.isInteger(drain) && drain >= 0, "Shutdown__DrainDelaySeconds is set");
    assert.equal(preStop, drain, "preStop sleep equals the drain delay");
    assert.ok(spec.terminationGracePeriodSeconds > preStop + drain + timeout,
      `terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} > ${preStop} + ${drain} + ${timeout}`);
    if (env === "prod") assert.equal(drain, 5, "production drains for 5 s");
  });

  test(`${env}: the bot reads secrets as files and config from the mounted ConfigMap, with POD_NAME/POD_NAMESPACE`, () => {
    const deployment = ofKind(docsOf(env), "Deployment")[0];
    const spec = deployment.spec.template.spec;
    const bot = spec.containers.find((container) => container.name === "bot");
    const mounts = Object.fromEntries(bot.volumeMounts.map((mount) => [mount.mountPath, mount]));
    assert.equal(mounts["/etc/bot/secrets"]?.readOnly, true);
    assert.equal(mounts["/etc/bot/config"]?.readOnly, true);
    assert.ok(mounts["/tmp"], "/tmp is writable (emptyDir)");
    assert.ok(!bot.volumeMounts.some((mount) => mount.subPath), "no subPath: ConfigMap updates must reach the pod");
    const volumes = Object.fromEntries(spec.volumes.map((volume) => [volume.name, volume]));
    assert.ok(volumes[mounts["/tmp"].name].emptyDir, "/tmp is an emptyDir");
    assert.ok(volumes[mounts["/etc/bot/config"].name].configMap, "config is a ConfigMap volume");
    const secretSources = volumes[mounts["/etc/bot/secrets"].name].projected.sources.map((source) => source.secret?.name);
    assert.ok(secretSources.includes("bot-secrets"), "the Terraform-created Secret is mounted");
    assert.ok(!(bot.envFrom ?? []).length, "no envFrom: secrets never become environment variables");
    for (const entry of bot.env) assert.ok(!entry.valueFrom?.secretKeyRef, `env ${entry.name} must not come from a Secret`);
    assert.equal(envValue(bot, "Secrets__Directory"), "/etc/bot/secrets");
    assert.equal(envValue(bot, "Config__Directory"), "/etc/bot/config");
    assert.equal(bot.env.find((entry) => entry.name === "POD_NAME")?.valueFrom?.fieldRef?.fieldPath, "metadata.name");
    assert.equal(bot.env.find((entry) => entry.name === "POD_NAMESPACE")?.valueFrom?.fieldRef?.fieldPath, "metadata.namespace");
    assert.equal(spec.automountServiceAccountToken, true, "the bot needs its token for the Lease");
    assert.equal(spec.serviceAccountName, "bot");
    const expected = { dev: "Development", staging: "Staging", prod: "Production" }[env];
    assert.equal(envValue(bot, "ASPNETCORE_ENVIRONMENT"), expected);
    assert.match(envValue(bot, "Database__ConnectionString"), /^Host=bot-db-rw;Port=5432;Database=bot;Username=bot;SSL Mode=VerifyFull;Root Certificate=\/etc\/bot\/db-ca\/ca\.crt(;|$)/);
    assert.doesNotMatch(envValue(bot, "Database__ConnectionString"), /Password/i);
  });

  test(`${env}: spread over nodes and zones, with a disruption budget`, () => {
    const docs = docsOf(env);
    const deployment = ofKind(docs, "Deployment")[0];
    const constraints = deployment.spec.template.spec.topologySpreadConstraints;
    assert.deepEqual(constraints.map((constraint) => constraint.topologyKey).sort(), ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    for (const constraint of constraints) {
      assert.deepEqual(constraint.labelSelector.matchLabels, deployment.spec.selector.matchLabels);
    }
    const pdb = ofKind(docs, "PodDisruptionBudget")[0];
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  });
}

test("staging and prod: autoscaled by CPU (HPA autoscaling/v2), the Deployment leaves replicas to it", () => {
  for (const env of ["staging", "prod"]) {
    const docs = docsOf(env);
    const hpa = ofKind(docs, "HorizontalPodAutoscaler")[0];
    assert.equal(hpa.apiVersion, "autoscaling/v2");
    assert.equal(hpa.spec.scaleTargetRef.name, "bot");
    assert.ok(hpa.spec.metrics.some((metric) => metric.resource?.name === "cpu"));
    assert.equal(ofKind(docs, "Deployment")[0].spec.replicas, undefined, `${env}: replicas must be the HPA's`);
  }
  const lag = ofKind(docsOf("sentinel"), "HorizontalPodAutoscaler")[0].spec.metrics.find((metric) => metric.type === "External");
  assert.equal(lag.external.metric.name, "bot_inbox_lag_seconds", "the optional inbox lag metric");
});

for (const variant of [...environments, "sentinel"]) {
  test(`${variant}: hooks: migrations before install/upgrade, webhook registration after, a helm test`, () => {
    const docs = docsOf(variant);
    const migrate = named(docs, "Job", "bot-migrate");
    assert.ok(migrate, "migration Job");
    assert.deepEqual(hookOf(migrate), ["pre-install", "pre-upgrade"]);
    assert.equal(annotations(migrate)["helm.sh/hook-delete-policy"], "before-hook-creation");
    assert.deepEqual(migrate.spec.template.spec.containers[0].args, ["migrate", "up"]);
    assert.equal(migrate.spec.template.spec.restartPolicy, "Never");
    // A pre-install hook runs before the release's ConfigMap exists: it must not need it.
    assert.ok(!migrate.spec.template.spec.volumes.some((volume) => volume.configMap), "migration Job mounts no ConfigMap");

    const webhook = named(docs, "Job", "bot-webhook-set");
    assert.ok(webhook, "webhook registration Job");
    assert.deepEqual(hookOf(webhook), ["post-install", "post-upgrade"]);
    assert.deepEqual(webhook.spec.template.spec.containers[0].args, ["webhook", "set"]);
    assert.match(envValue(webhook.spec.template.spec.containers[0], "Telegram__WebhookUrl"), /^https:\/\/[^/]+\/telegram\/webhook$/);
    assert.ok(Number(annotations(webhook)["helm.sh/hook-weight"]) > Number(annotations(migrate)["helm.sh/hook-weight"]));

    const tests = ofKind(docs, "Pod").filter((pod) => hookOf(pod).includes("test"));
    assert.equal(tests.length, 1, "one helm test pod");
    assert.match(tests[0].spec.containers[0].args.join(" "), /:9090\/readyz$/);

    for (const doc of docs.filter((d) => hookOf(d).length && d.kind !== "Pod")) {
      assert.ok(["Job", "Secret"].includes(doc.kind), `unexpected hook ${doc.kind}/${doc.metadata.name}`);
    }
  });
}

test("sentinel: the chart's own Secret is a pre-install/pre-upgrade hook weighted before the migration Job", () => {
  const docs = docsOf("sentinel");
  const secret = named(docs, "Secret", "bot");
  assert.ok(secret, "chart-managed Secret");
  assert.deepEqual(hookOf(secret), ["pre-install", "pre-upgrade"]);
  assert.ok(Number(annotations(secret)["helm.sh/hook-weight"]) < Number(annotations(named(docs, "Job", "bot-migrate"))["helm.sh/hook-weight"]));
  assert.deepEqual(Object.keys(secret.data).sort(), [
    "Admin__PreviousReadToken", "Admin__PreviousToken", "Admin__ReadToken", "Admin__Token",
    "Database__Password", "Sentry__Dsn", "Telegram__BotToken", "Telegram__WebhookSecret",
  ]);
  for (const env of environments) {
    assert.equal(ofKind(docsOf(env), "Secret").length, 0, `${env} uses the Terraform-created Secret, renders none`);
  }
});

// The sentinel values with some optional admin tokens emptied again.
function sentinelSecretWith(sets) {
  const result = runHelm([
    "template", "bot", chartDir, "--namespace", "bot-prod",
    "-f", path.join(chartDir, "values-prod.yaml"), "-f", path.join(deliveryDir, "fixtures/sentinel-secrets.yaml"),
    "--set", `image.digest=${sentinelDigest}`, "--show-only", "templates/secret.yaml",
    ...sets.flatMap((set) => ["--set", set]),
  ]);
  assert.equal(result.status, 0, result.stderr);
  return yaml.load(result.stdout);
}

const decoded = (secret) =>
  Object.fromEntries(Object.entries(secret.data).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]));

test("sentinel: the optional admin tokens become keys of the chart's Secret only when set", () => {
  const all = decoded(named(docsOf("sentinel"), "Secret", "bot"));
  assert.equal(all.Admin__Token, "SENTINEL-admin-token-0123456789");
  assert.equal(all.Admin__PreviousToken, "SENTINEL-admin-previous-token-0123456789");
  assert.equal(all.Admin__ReadToken, "SENTINEL-admin-read-token-0123456789");
  assert.equal(all.Admin__PreviousReadToken, "SENTINEL-admin-previous-read-token-0123456789");

  const none = sentinelSecretWith(["secrets.adminPreviousToken=", "secrets.adminReadToken=", "secrets.adminPreviousReadToken="]);
  assert.deepEqual(Object.keys(none.data).filter((key) => key.startsWith("Admin__")), ["Admin__Token"], "no empty optional keys");

  const readOnly = sentinelSecretWith(["secrets.adminPreviousToken=", "secrets.adminPreviousReadToken="]);
  assert.deepEqual(Object.keys(readOnly.data).filter((key) => key.startsWith("Admin__")).sort(), ["Admin__ReadToken", "Admin__Token"]);

  const previousOnly = sentinelSecretWith(["secrets.adminReadToken=", "secrets.adminPreviousReadToken="]);
  assert.deepEqual(Object.keys(previousOnly.data).filter((key) => key.startsWith("Admin__")).sort(), ["Admin__PreviousToken", "Admin__Token"]);
});

for (const variant of allVariants) {
  test(`${variant}: the app Secret is mounted whole (no items) and as a directory (no subPath), so updates and new keys reach the pods`, () => {
    const docs = docsOf(variant);
    const appSecret = named(docs, "Deployment", "bot").spec.template.spec.volumes
      .find((volume) => volume.name === "secrets").projected.sources[0].secret.name;
    assert.equal(appSecret, variant === "sentinel" ? "bot" : "bot-secrets");
    let mounted = 0;
    for (const { where, spec } of podSpecs(docs)) {
      const secretVolumes = new Set();
      for (const volume of spec.volumes ?? []) {
        const sources = volume.projected?.sources?.map((source) => source.secret).filter(Boolean) ?? [];
        if (volume.secret) sources.push({ name: volume.secret.secretName, items: volume.secret.items });
        if (sources.length) secretVolumes.add(volume.name);
        for (const source of sources.filter((s) => s.name === appSecret)) {
          // Only the postgres-client CronJobs pick the one key they need out of the app Secret.
          if (source.items) {
            assert.deepEqual(source.items.map((item) => item.key), ["Database__Password"], `${where}: ${volume.name} picks keys of the app Secret`);
          } else {
            mounted += 1;
          }
        }
      }
      for (const container of containersOf(spec)) {
        for (const mount of container.volumeMounts ?? []) {
          if (!secretVolumes.has(mount.name)) continue;
          assert.equal(mount.subPath, undefined, `${where}/${container.name}: ${mount.name} mounted with subPath never updates`);
          assert.equal(mount.subPathExpr, undefined, `${where}/${container.name}: ${mount.name} mounted with subPathExpr never updates`);
        }
      }
    }
    assert.ok(mounted >= 2, "the bot and its Jobs mount every key of the app Secret");
    const bot = named(docs, "Deployment", "bot").spec.template.spec.containers.find((container) => container.name === "bot");
    const mount = bot.volumeMounts.find((entry) => entry.mountPath === "/etc/bot/secrets");
    assert.equal(mount.name, "secrets");
    assert.equal(mount.subPath, undefined);
  });
}

test("polling mode renders no Ingress and no webhook registration", () => {
  const docs = docsOf("polling");
  assert.equal(ofKind(docs, "Ingress").length, 0);
  assert.equal(named(docs, "Job", "bot-webhook-set"), undefined);
  assert.equal(envValue(ofKind(docs, "Deployment")[0].spec.template.spec.containers[0], "Telegram__Mode"), "Polling");
});

test("extras: extraVolumes, extraVolumeMounts, extraEnvFrom on the bot container, extraContainers after it, initContainers before it", () => {
  const extras = loadYamlFile(path.join(deliveryDir, "fixtures/extras.yaml"));
  const docs = docsOf("extras");
  const pod = ofKind(docs, "Deployment")[0].spec.template.spec;
  // The same install without the extension points.
  const plain = runHelm(["template", "bot", chartDir, "--namespace", "bot-dev", "--set", `secrets.existingSecret=${extras.secrets.existingSecret}`]);
  assert.equal(plain.status, 0, plain.stderr);
  const chartPod = yaml.loadAll(plain.stdout).find((doc) => doc?.kind === "Deployment").spec.template.spec;
  const [bot, ...sidecars] = pod.containers;
  const chartBot = chartPod.containers[0];
  assert.equal(bot.name, "bot", "the bot stays the first container");
  assert.deepEqual(sidecars.map((c) => c.name), ["log-shipper"]);
  assert.deepEqual(sidecars[0].args, ["bot"], "extraContainers are templated ({{ .Release.Name }})");
  assert.deepEqual(pod.initContainers, extras.initContainers);
  assert.deepEqual(bot.envFrom, extras.extraEnvFrom);
  // The chart's own mounts and volumes stay, the extra ones come after them; sidecars get none of the bot's.
  assert.deepEqual(bot.volumeMounts, [...chartBot.volumeMounts, ...extras.extraVolumeMounts]);
  assert.deepEqual(pod.volumes, [...chartPod.volumes, ...extras.extraVolumes]);
  assert.deepEqual({ ...bot, envFrom: undefined, volumeMounts: undefined }, { ...chartBot, envFrom: undefined, volumeMounts: undefined }, "the bot container is otherwise unchanged");
  assert.equal(sidecars[0].volumeMounts, undefined);
  assert.equal(sidecars[0].envFrom, undefined);
  // Run-to-completion pods take none of them: a sidecar would keep a Job from completing.
  for (const { where, doc, spec } of podSpecs(docs)) {
    if (doc.kind === "Deployment") continue;
    const names = containersOf(spec).map((c) => c.name);
    assert.ok(!names.includes("log-shipper") && !names.includes("wait-for-dns"), `${where}: ${names}`);
    assert.ok(!(spec.volumes ?? []).some((v) => v.name === "corp-ca"), `${where}: corp-ca volume`);
  }
});

test("the pod's extension points are empty by default", () => {
  for (const variant of allVariants) {
    const pod = ofKind(docsOf(variant), "Deployment")[0].spec.template.spec;
    assert.deepEqual(pod.containers.map((c) => c.name), ["bot"], variant);
    assert.equal(pod.initContainers, undefined, variant);
    assert.equal(pod.containers[0].envFrom, undefined, variant);
  }
});

for (const variant of [...environments, "sentinel"]) {
  test(`${variant}: RBAC grants only get/update on the bot's Lease and create on leases, in the release namespace`, () => {
    const docs = docsOf(variant);
    assert.equal(ofKind(docs, "ClusterRole").length + ofKind(docs, "ClusterRoleBinding").length, 0, "nothing cluster-wide");
    const roles = ofKind(docs, "Role");
    assert.equal(roles.length, 1);
    // get/update on the bot's own Lease only; create cannot be limited by name, so it is a rule of its own.
    assert.deepEqual(roles[0].rules, [
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: ["bot-leader"], verbs: ["get", "update"] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    ]);
    const bot = ofKind(docs, "Deployment")[0].spec.template.spec.containers.find((container) => container.name === "bot");
    assert.equal(envValue(bot, "Coordination__LeaseName"), "bot-leader", "the Role names the Lease the bot takes");
    const binding = ofKind(docs, "RoleBinding")[0];
    assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roles[0].metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "bot", namespace: roles[0].metadata.namespace }]);
    assert.equal(ofKind(docs, "ServiceAccount")[0].automountServiceAccountToken, false, "token only where a pod asks for it");
    for (const { where, doc, spec } of podSpecs(docs)) {
      if (doc.kind !== "Deployment") assert.equal(spec.automountServiceAccountToken, false, `${where} needs no API token`);
    }
  });
}

test("sentinel: secret values appear in the Secret only, never in a ConfigMap, an env var or an annotation", () => {
  const { docs } = rendered("sentinel");
  const sentinels = [
    "123456789:SENTINELbotTOKENxxxxxxxxxxxxxxxxxxxx",
    "SENTINEL_webhook_secret_0123456789",
    "SENTINEL-admin-token-0123456789",
    "SENTINEL-admin-previous-token-0123456789",
    "SENTINEL-admin-read-token-0123456789",
    "SENTINEL-admin-previous-read-token-0123456789",
    "SENTINEL-database-password-0123456789",
  ];
  const encodings = sentinels.flatMap((value) => [value, Buffer.from(value).toString("base64")]);
  const secret = named(docs, "Secret", "bot");
  for (const value of sentinels) {
    assert.ok(Object.values(secret.data).includes(Buffer.from(value).toString("base64")), "the Secret carries every value");
  }
  const configMaps = ofKind(docs, "ConfigMap");
  assert.ok(configMaps.length >= 2, "the settings and scripts ConfigMaps are rendered");
  for (const doc of docs.filter((d) => d.kind !== "Secret")) {
    const text = JSON.stringify(doc);
    for (const value of encodings) {
      assert.ok(!text.includes(value), `${doc.kind}/${doc.metadata.name} contains a secret value`);
    }
    assert.ok(!/SENTINEL/i.test(text), `${doc.kind}/${doc.metadata.name} mentions a sentinel`);
  }
});

test("sentinel: appsettings.json is valid JSON, ids keep every digit, feature flags and overrides land in it", () => {
  const configMap = named(docsOf("sentinel"), "ConfigMap", "bot-config");
  const settings = JSON.parse(configMap.data["appsettings.json"]);
  assert.equal(settings.Bot.MainChatId, "-1001234567890");
  assert.equal(settings.Bot.GatedChatIds, "-1001234567891,-1009876543210");
  assert.equal(settings.Admin.UserIds, "123456789,987654321");
  assert.deepEqual(settings.FeatureFlags, { JoinGate: { Enabled: true, Percentage: 25 } });
  assert.equal(settings.Bot.FloodMaxUpdates, 20);
  const podAnnotations = ofKind(docsOf("sentinel"), "Deployment")[0].spec.template.metadata.annotations;
  assert.match(podAnnotations["checksum/config"], /^[0-9a-f]{64}$/, "configRollout adds the config checksum");
  assert.match(podAnnotations["checksum/secret"], /^[0-9a-f]{64}$/, "a chart-managed Secret rolls the pods when it changes");
});

for (const env of environments) {
  test(`${env}: the Ingress exposes only POST /telegram/webhook on port 8080, TLS, Telegram's source ranges, rate limits`, () => {
    const docs = docsOf(env);
    const ingresses = ofKind(docs, "Ingress");
    assert.equal(ingresses.length, 1);
    const [ingress] = ingresses;
    assert.equal(ingress.spec.ingressClassName, "nginx");
    assert.ok(ingress.spec.tls?.length === 1 && ingress.spec.tls[0].secretName, "TLS");
    const host = ingress.spec.rules[0].host;
    assert.deepEqual(ingress.spec.tls[0].hosts, [host]);
    assert.ok(!ingress.spec.defaultBackend, "no default backend");
    const paths = ingress.spec.rules.flatMap((rule) => rule.http.paths);
    assert.equal(paths.length, 1, "exactly one path");
    assert.equal(paths[0].path, "/telegram/webhook");
    assert.ok(["Exact", "Prefix"].includes(paths[0].pathType));
    const service = named(docs, "Service", paths[0].backend.service.name);
    const port = service.spec.ports.find((p) => p.name === paths[0].backend.service.port.name || p.port === paths[0].backend.service.port.number);
    assert.equal(port.port, 8080, "routes to the public port");
    assert.equal(port.targetPort, "http");
    const ranges = annotations(ingress)["nginx.ingress.kubernetes.io/whitelist-source-range"].split(",");
    for (const range of telegramRanges) assert.ok(ranges.includes(range), `source range ${range}`);
    if (env === "prod") assert.deepEqual(ranges.sort(), [...telegramRanges].sort(), "production admits Telegram only");
    assert.ok(Number(annotations(ingress)["nginx.ingress.kubernetes.io/limit-rps"]) > 0, "limit-rps");
    assert.ok(annotations(ingress)["nginx.ingress.kubernetes.io/proxy-body-size"], "bounded body");
    const webhook = named(docs, "Job", "bot-webhook-set");
    assert.equal(envValue(webhook.spec.template.spec.containers[0], "Telegram__WebhookUrl"), `https://${host}/telegram/webhook`);
  });
}

for (const env of environments) {
  test(`${env}: every bot container runs the image by digest`, () => {
    const specs = podSpecs(docsOf(env));
    const botContainers = specs.flatMap(({ spec }) => spec.containers).filter((container) => botImagePattern.test(container.image));
    assert.ok(botContainers.length >= 3, "Deployment, migration and webhook Jobs");
    for (const container of botContainers) {
      assert.ok(container.image.endsWith(`@${sentinelDigest}`), `${container.name}: ${container.image}`);
    }
  });
}

test("staging and prod: no environment file sets an image tag", async () => {
  const { loadYamlFile, chartDir } = await import("./lib.mjs");
  for (const env of ["staging", "prod"]) {
    const values = loadYamlFile(`${chartDir}/values-${env}.yaml`);
    assert.ok(!values.image?.tag, `values-${env}.yaml sets image.tag`);
  }
});

test("prod: backups and the restore check run on a schedule, with the scripts from the chart", () => {
  const docs = docsOf("prod");
  const backup = named(docs, "CronJob", "bot-backup");
  const restore = named(docs, "CronJob", "bot-restore-check");
  assert.ok(backup && restore);
  assert.equal(backup.spec.concurrencyPolicy, "Forbid");
  const backupSpec = backup.spec.jobTemplate.spec.template.spec;
  const backupContainer = backupSpec.initContainers.find((container) => container.name === "backup");
  assert.deepEqual(backupContainer.command, ["/bin/sh", "/opt/bot/scripts/backup.sh"]);
  assert.equal(envValue(backupContainer, "BACKUP_RETENTION"), "14");
  assert.equal(envValue(backupContainer, "PGPASSWORD_FILE"), "/etc/bot/db/password");
  for (const container of containersOf(backupSpec)) {
    assert.ok(!container.env.some((entry) => entry.name === "PGPASSWORD" || entry.valueFrom?.secretKeyRef),
      `${container.name}: secrets are files, not variables`);
  }
  const restoreSpec = restore.spec.jobTemplate.spec.template.spec;
  const restoreContainer = restoreSpec.containers.find((container) => container.name === "restore-check");
  assert.deepEqual(restoreContainer.command, ["/bin/sh", "/opt/bot/scripts/restore-check.sh"]);
  assert.notEqual(envValue(restoreContainer, "RESTORE_CHECK_DATABASE"), envValue(restoreContainer, "PGDATABASE"));
  const scripts = named(docs, "ConfigMap", "bot-backup-scripts");
  for (const script of ["backup.sh", "restore-check.sh", "offsite.sh"]) {
    assert.ok(scripts.data[script] === readFileSync(path.join(repoRoot, "deploy/scripts", script), "utf8"),
      `the CronJobs must run deploy/scripts/${script} byte for byte (copy it to charts/bot/files/)`);
  }
  const claim = named(docs, "PersistentVolumeClaim", "bot-backups");
  assert.equal(annotations(claim)["helm.sh/resource-policy"], "keep", "backups survive helm uninstall");
});

/** Secret names a pod spec's volumes read, projected ones included. */
const secretsOf = (spec) => spec.volumes.flatMap((volume) =>
  [volume.secret?.secretName, ...(volume.projected?.sources ?? []).map((source) => source.secret?.name)].filter(Boolean));

test("prod: the backup is encrypted to a public key and copied to the bucket; the private key is only the restore check's", () => {
  const docs = docsOf("prod");
  const spec = named(docs, "CronJob", "bot-backup").spec.jobTemplate.spec.template.spec;
  const [dump] = spec.initContainers;
  const [offsite] = spec.containers;
  assert.equal(dump.name, "backup", "the dump runs first, as an init container");
  assert.equal(envValue(dump, "BACKUP_ENCRYPT_PUBLIC_KEY"), "/etc/bot/backup-key/public.asc");
  assert.equal(envValue(dump, "BACKUP_REQUIRE_ENCRYPTION"), "1");
  const keyVolume = spec.volumes.find((volume) => volume.name === "backup-key");
  assert.deepEqual(keyVolume.secret.items, [{ key: "backup.pub.asc", path: "public.asc" }]);
  assert.ok(!secretsOf(spec).includes("bot-restore-check-key"), "the backup Job never mounts the private key");
  assert.equal(offsite.name, "offsite");
  assert.deepEqual(offsite.command, ["/bin/sh", "/opt/bot/scripts/offsite.sh", "push"]);
  assert.match(offsite.image, /^docker\.io\/curlimages\/curl:[^@]+@sha256:[a-f0-9]{64}$/, "a pinned curl image");
  assert.equal(envValue(offsite, "OFFSITE_BUCKET_URL"), "https://s3.eu-central-1.amazonaws.com/bot-backups");
  assert.equal(envValue(offsite, "OFFSITE_PREFIX"), "prod/pg_dump/");
  assert.equal(offsite.volumeMounts.find((mount) => mount.name === "backups").readOnly, true, "the copy only reads the volume");
  const credentials = spec.volumes.find((volume) => volume.name === "offsite-credentials").secret;
  assert.equal(credentials.secretName, "bot-backup-offsite");
  assert.deepEqual(credentials.items.map((item) => item.path), ["access-key-id", "secret-access-key"]);

  const restore = named(docs, "CronJob", "bot-restore-check").spec.jobTemplate.spec.template.spec;
  const [fetch] = restore.initContainers;
  assert.deepEqual(fetch.command, ["/bin/sh", "/opt/bot/scripts/offsite.sh", "pull"], "production restores the bucket's copy");
  assert.ok(restore.volumes.find((volume) => volume.name === "backups").emptyDir, "fetched into an emptyDir, not the volume");
  assert.equal(restore.volumes.find((volume) => volume.name === "offsite-credentials").secret.secretName, "bot-restore-check-offsite",
    "with read-only credentials of its own");
  const check = restore.containers.find((container) => container.name === "restore-check");
  assert.equal(envValue(check, "RESTORE_CHECK_DECRYPT_KEY"), "/etc/bot/restore-key/private.asc");
  assert.ok(secretsOf(restore).includes("bot-restore-check-key"));
  assert.equal(envValue(check, "PGHOST"), "bot-db-restore-rw", "a server of its own, not the bot's primary");
  assert.notEqual(envValue(check, "PGHOST"), "bot-db-rw");
  const ca = restore.volumes.find((volume) => volume.name === "db-ca").secret;
  assert.equal(ca.secretName, "bot-db-restore-ca", "verified against the restore server's own CA");
});

test("staging: encrypted backups copied off the cluster, restored from the volume on the bot's server", () => {
  const docs = docsOf("staging");
  const backup = named(docs, "CronJob", "bot-backup").spec.jobTemplate.spec.template.spec;
  assert.equal(envValue(backup.initContainers[0], "BACKUP_REQUIRE_ENCRYPTION"), "1");
  assert.equal(backup.containers[0].name, "offsite");
  const restore = named(docs, "CronJob", "bot-restore-check").spec.jobTemplate.spec.template.spec;
  assert.equal(restore.initContainers, undefined);
  assert.equal(restore.volumes.find((volume) => volume.name === "backups").persistentVolumeClaim.claimName, "bot-backups");
  assert.equal(envValue(restore.containers[0], "PGHOST"), "bot-db-rw");
});

test("error tracking: secrets.sentryDsn is a key of the app Secret only, and every environment's events name the image digest and the environment", () => {
  const secret = ofKind(docsOf("sentinel"), "Secret").find((doc) => doc.data?.Sentry__Dsn);
  assert.ok(secret, "the app Secret holds Sentry__Dsn");
  assert.equal(Buffer.from(secret.data.Sentry__Dsn, "base64").toString(), "https://SENTINELsentrykey0123456789@o1.ingest.sentry.io/42");
  assert.ok(!ofKind(docsOf("prod"), "Secret").some((doc) => doc.data?.Sentry__Dsn), "no key without the value");
  for (const env of environments) {
    const bot = named(docsOf(env), "Deployment", "bot").spec.template.spec.containers.find((c) => c.name === "bot");
    assert.equal(envValue(bot, "Sentry__Environment"), { dev: "development", staging: "staging", prod: "production" }[env]);
    assert.equal(envValue(bot, "Sentry__Release"), `bot@${sentinelDigest}`, `${env}: the digest the pod runs`);
    assert.equal(envValue(bot, "Sentry__Dsn"), undefined, `${env}: the DSN only as a secret file`);
  }
  const refused = runHelm(["template", "bot", chartDir, "-f", path.join(chartDir, "values-dev.yaml"), "--set", "secrets.sentryDsn=not-a-dsn"]);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /sentryDsn/);
});

test("discord: the callback has an Ingress of its own open to browsers, the config and flag, Discord's addresses on 443 only, and refusals for what is missing", () => {
  const common = ["-f", path.join(chartDir, "values-prod.yaml"), "--set", `image.digest=${sentinelDigest}`, "--set", "discord.enabled=true",
    "--set-string", "discord.clientId=111,discord.guildId=222,discord.roleId=333"];
  const result = runHelm(["template", "bot", chartDir, ...common, "--set", "networkPolicy.discord.cidrs={104.16.0.0/13,104.24.0.0/14}"]);
  assert.equal(result.status, 0, result.stderr);
  const docs = yaml.loadAll(result.stdout).filter((doc) => doc && typeof doc === "object");
  const callback = named(docs, "Ingress", "bot-discord");
  assert.deepEqual(callback.spec.rules[0].http.paths.map((p) => [p.path, p.pathType]), [["/discord/callback", "Exact"]]);
  assert.equal(annotations(callback)["nginx.ingress.kubernetes.io/whitelist-source-range"], undefined, "browsers come from anywhere");
  assert.ok(Number(annotations(callback)["nginx.ingress.kubernetes.io/limit-rps"]) <= 5);
  const webhook = named(docs, "Ingress", "bot");
  assert.deepEqual(webhook.spec.rules[0].http.paths.map((p) => p.path), ["/telegram/webhook"], "the webhook Ingress keeps its one path and its ranges");
  const settings = JSON.parse(named(docs, "ConfigMap", "bot-config").data["appsettings.json"]);
  assert.deepEqual(settings.Discord, { ClientId: "111", GuildId: "222", RoleId: "333", RedirectUri: "https://bot.example.com/discord/callback", ReconcileMinutes: 60 });
  assert.equal(settings.FeatureFlags.DiscordSync, true);
  const egress = named(docs, "NetworkPolicy", "bot").spec.egress;
  const discordRule = egress.find((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === "104.16.0.0/13"));
  assert.deepEqual(discordRule.ports, [{ port: 443, protocol: "TCP" }]);
  assert.deepEqual(discordRule.to.map((peer) => peer.ipBlock.cidr), ["104.16.0.0/13", "104.24.0.0/14"]);

  const refusals = [
    [["--set", "networkPolicy.discord.cidrs={0.0.0.0/0}"], /every address/],
    [[], /networkPolicy\.discord\.cidrs/],
    [["--set", "networkPolicy.discord.cidrs={104.16.0.0/13}", "--set-string", "discord.roleId=abc"], /discord\.roleId must be a Discord id/],
    [["--set", "networkPolicy.discord.cidrs={104.16.0.0/13}", "--set", "discord.redirectUri=http://bot.example.com/discord/callback"], /redirectUri/],
  ];
  for (const [extra, message] of refusals) {
    const refused = runHelm(["template", "bot", chartDir, ...common, ...extra]);
    assert.notEqual(refused.status, 0, extra.join(" "));
    assert.match(refused.stderr, message);
  }
  const noSecrets = runHelm(["template", "bot", chartDir, "-f", path.join(chartDir, "values-prod.yaml"), "-f", path.join(deliveryDir, "fixtures/sentinel-secrets.yaml"),
    "--set", `image.digest=${sentinelDigest}`, "--set", "discord.enabled=true", "--set-string", "discord.clientId=1,discord.guildId=2,discord.roleId=3",
    "--set", "networkPolicy.discord.cidrs={104.16.0.0/13}"]);
  assert.notEqual(noSecrets.status, 0);
  assert.match(noSecrets.stderr, /secrets\.discordClientSecret and secrets\.discordBotToken/);
});

test("miniApp: the admin app has an Ingress of its own for /app/ open to admins' devices, the configured address, and refusals for a bad one", () => {
  const common = ["-f", path.join(chartDir, "values-prod.yaml"), "--set", `image.digest=${sentinelDigest}`, "--set", "miniApp.enabled=true"];
  const result = runHelm(["template", "bot", chartDir, ...common]);
  assert.equal(result.status, 0, result.stderr);
  const docs = yaml.loadAll(result.stdout).filter((doc) => doc && typeof doc === "object");
  const app = named(docs, "Ingress", "bot-miniapp");
  assert.deepEqual(app.spec.rules[0].http.paths.map((p) => [p.path, p.pathType]), [["/app/", "Prefix"]]);
  assert.equal(app.spec.rules[0].http.paths[0].backend.service.port.name, "http", "the public port, never the internal one");
  assert.equal(annotations(app)["nginx.ingress.kubernetes.io/whitelist-source-range"], undefined, "admins' devices come from anywhere");
  assert.ok(Number(annotations(app)["nginx.ingress.kubernetes.io/limit-rps"]) <= 20);
  assert.deepEqual(named(docs, "Ingress", "bot").spec.rules[0].http.paths.map((p) => p.path), ["/telegram/webhook"], "the webhook Ingress keeps its one path");
  const settings = JSON.parse(named(docs, "ConfigMap", "bot-config").data["appsettings.json"]);
  assert.deepEqual(settings.MiniApp, { Url: "https://bot.example.com/app/" });

  const own = runHelm(["template", "bot", chartDir, ...common, "--set", "miniApp.url=https://admin.example.com/bot/app/"]);
  assert.equal(own.status, 0, own.stderr);
  const ownSettings = JSON.parse(named(yaml.loadAll(own.stdout).filter(Boolean), "ConfigMap", "bot-config").data["appsettings.json"]);
  assert.equal(ownSettings.MiniApp.Url, "https://admin.example.com/bot/app/");
  for (const url of ["http://bot.example.com/app/", "https://bot.example.com/app", "https://bot.example.com/app/?x=1", "https://bot.example.com/admin/"]) {
    const refused = runHelm(["template", "bot", chartDir, ...common, "--set", `miniApp.url=${url}`]);
    assert.notEqual(refused.status, 0, url);
    assert.match(refused.stderr, /miniApp/);
  }

  const off = runHelm(["template", "bot", chartDir, "-f", path.join(chartDir, "values-prod.yaml"), "--set", `image.digest=${sentinelDigest}`]);
  const offDocs = yaml.loadAll(off.stdout).filter((doc) => doc && typeof doc === "object");
  assert.ok(!offDocs.some((doc) => doc.kind === "Ingress" && doc.metadata.name === "bot-miniapp"), "no Ingress while it is off");
  assert.equal(JSON.parse(named(offDocs, "ConfigMap", "bot-config").data["appsettings.json"]).MiniApp, undefined);
});
