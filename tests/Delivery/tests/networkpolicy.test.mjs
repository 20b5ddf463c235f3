// The network policies, exactly: every rule of every policy, peers and ports, as each environment renders
// it. An extra peer, port or rule anywhere fails, so does a rule open to every address. Also how the Lease
// (its name in the Role, leaderElection.mode) and the API server egress go together.
import test from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import yaml from "js-yaml";
import { chartDir, docsOf, envValue, environments, named, ofKind, runHelm, sentinelDigest, telegramRanges } from "./lib.mjs";

const prodArgs = ["--namespace", "bot-prod", "-f", path.join(chartDir, "values-prod.yaml"), "--set", `image.digest=${sentinelDigest}`];

/** Renders the production values with extra helm arguments; returns the documents. */
function renderProd(...extra) {
  const result = runHelm(["template", "bot", chartDir, ...prodArgs, ...extra]);
  assert.equal(result.status, 0, result.stderr);
  return yaml.loadAll(result.stdout).filter((doc) => doc && typeof doc === "object");
}

const selector = (component) => ({ "app.kubernetes.io/name": "bot", "app.kubernetes.io/instance": "bot", "app.kubernetes.io/component": component });
const tcp = (...ports) => ports.map((port) => ({ port, protocol: "TCP" }));

const ingressControllerPeer = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
  podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
};
const testPodPeer = { podSelector: { matchLabels: selector("test") } };
const dnsRule = {
  to: [{
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
    podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
  }],
  ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }],
};
const databaseRule = { to: [{ podSelector: { matchLabels: { "cnpg.io/cluster": "bot-db" } } }], ports: tcp(5432) };
const telegramRule = { to: telegramRanges.map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(443) };
// values-<env>.yaml: the API server's endpoints (a placeholder until the platform fills them in).
const kubernetesApiRule = { to: [{ ipBlock: { cidr: "192.0.2.0/28" } }], ports: tcp(6443) };
const otlpRule = {
  to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: {} }],
  ports: tcp(4317, 4318),
};

// values-<env>.yaml: the object store of backup.offsite (a placeholder until the platform fills it in), and
// production's restore check server.
const objectStoreRule = { to: [{ ipBlock: { cidr: "198.51.100.0/24" } }], ports: tcp(443) };
const restoreTargetRule = { to: [{ podSelector: { matchLabels: { "cnpg.io/cluster": "bot-db-restore" } } }], ports: tcp(5432) };
const backupPolicy = (...egress) => ({
  podSelector: {
    matchLabels: { "app.kubernetes.io/name": "bot", "app.kubernetes.io/instance": "bot" },
    matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["backup", "restore-check"] }],
  },
  ingress: [],
  egress: [dnsRule, databaseRule, ...egress],
});

const publicRule = { from: [ingressControllerPeer], ports: tcp("http") };
const internalRule = (...peers) => ({ from: [testPodPeer, ...peers], ports: tcp("internal") });

// Every environment file names the same peers; a difference would show here as a failing environment.
const expected = Object.fromEntries(environments.map((env) => [env, {
  bot: {
    podSelector: { matchLabels: selector("server") },
    ingress: [publicRule, internalRule()],
    egress: [dnsRule, databaseRule, telegramRule, kubernetesApiRule, otlpRule],
  },
  "bot-jobs": { podSelector: { matchLabels: selector("migrate") }, ingress: [], egress: [dnsRule, databaseRule] },
  // Backups and the restore check: dev has none; staging copies to the bucket and restores on the bot's
  // server; production also restores from the bucket, into a server of its own.
  ...(env === "staging" ? { "bot-backup": backupPolicy(objectStoreRule) } : {}),
  ...(env === "prod" ? { "bot-backup": backupPolicy(restoreTargetRule, objectStoreRule) } : {}),
  "bot-webhook": { podSelector: { matchLabels: selector("webhook") }, ingress: [], egress: [dnsRule, telegramRule] },
  "bot-test": {
    podSelector: { matchLabels: selector("test") },
    ingress: [],
    egress: [dnsRule, { to: [{ podSelector: { matchLabels: selector("server") } }], ports: tcp(9090) }],
  },
}]));

const shape = (policy) => ({ podSelector: policy.spec.podSelector, ingress: policy.spec.ingress ?? [], egress: policy.spec.egress ?? [] });

for (const env of environments) {
  test(`${env}: the NetworkPolicies, rule for rule: 8080 from the ingress controller, 9090 from the helm test pod only; egress DNS, PostgreSQL, Telegram, the API server, OTLP; the backup pods' to the object store`, () => {
    const policies = ofKind(docsOf(env), "NetworkPolicy");
    assert.deepEqual(policies.map((policy) => policy.metadata.name).sort(), Object.keys(expected[env]).sort());
    for (const policy of policies) {
      assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"], `${policy.metadata.name}: both directions isolated`);
      assert.deepEqual(shape(policy), expected[env][policy.metadata.name], `${policy.metadata.name}`);
    }
  });

  test(`${env}: no policy rule is open to every address (no 0.0.0.0/0, no rule without peers)`, () => {
    for (const policy of ofKind(docsOf(env), "NetworkPolicy")) {
      for (const rule of [...(policy.spec.ingress ?? []), ...(policy.spec.egress ?? [])]) {
        const peers = rule.from ?? rule.to;
        assert.ok(peers?.length, `${policy.metadata.name}: a rule without peers allows every address`);
        for (const peer of peers) {
          assert.ok(!["0.0.0.0/0", "::/0"].includes(peer.ipBlock?.cidr), `${policy.metadata.name}: ${peer.ipBlock?.cidr}`);
        }
      }
    }
  });

  test(`${env}: every pod the chart renders is selected by exactly one policy; the internal port's peer is the test pod's own labels`, () => {
    const docs = docsOf(env);
    const podLabels = (doc) => (doc.kind === "Pod" ? doc.metadata.labels
      : doc.kind === "CronJob" ? doc.spec.jobTemplate.spec.template.metadata.labels : doc.spec.template.metadata.labels);
    const matches = (sel, labels) => Object.entries(sel.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
      (sel.matchExpressions ?? []).every((expr) => expr.operator === "In" && expr.values.includes(labels[expr.key]));
    const policies = ofKind(docs, "NetworkPolicy");
    const workloads = docs.filter((doc) => ["Deployment", "Job", "CronJob", "Pod"].includes(doc.kind));
    for (const workload of workloads) {
      const selecting = policies.filter((policy) => matches(policy.spec.podSelector, podLabels(workload)));
      assert.equal(selecting.length, 1, `${workload.kind}/${workload.metadata.name}: selected by ${selecting.map((p) => p.metadata.name)}`);
    }
    const testPod = ofKind(docs, "Pod").find((pod) => pod.metadata.name === "bot-test-readyz");
    assert.ok(matches(testPodPeer.podSelector, testPod.metadata.labels), "the internal port's peer is the test pod's own labels");
    assert.ok(!Object.keys(testPod.metadata.labels).some((key) => key.endsWith("-client")), "no client label that other pods could copy");
  });
}

test("networkPolicy.internalPort.from adds exactly its peers to the internal port, nothing else changes", () => {
  const admin = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "bot-admin" } } };
  const tool = {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ops" } },
    podSelector: { matchLabels: { "app.kubernetes.io/name": "admin-tool" } },
  };
  const docs = renderProd("--set-json", `networkPolicy.internalPort.from=${JSON.stringify([admin, tool])}`);
  const policy = named(docs, "NetworkPolicy", "bot");
  assert.deepEqual(policy.spec.ingress, [publicRule, internalRule(admin, tool)]);
  assert.deepEqual(policy.spec.egress, expected.prod.bot.egress);
  for (const name of ["bot-jobs", "bot-backup", "bot-webhook", "bot-test"]) {
    assert.deepEqual(shape(named(docs, "NetworkPolicy", name)), expected.prod[name], name);
  }
});

test("the schema refuses the removed monitoring peer, the open HTTPS list and a malformed internal-port peer", () => {
  for (const [set, error] of [
    ["networkPolicy.monitoring.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring", /Additional property monitoring/],
    ["networkPolicy.httpsCidrs[0]=0.0.0.0/0", /Additional property httpsCidrs/],
    ["networkPolicy.internalPort.from[0].namespace=bot-admin", /Additional property namespace/],
  ]) {
    const result = runHelm(["template", "bot", chartDir, ...prodArgs, "--set", set]);
    assert.notEqual(result.status, 0, `${set} rendered`);
    assert.match(result.stderr, error);
  }
});

test("with the Lease in use and no API server addresses the chart refuses to render, in one sentence", () => {
  for (const mode of ["Auto", "Kubernetes"]) {
    const result = runHelm(["template", "bot", chartDir, ...prodArgs, "--set", `leaderElection.mode=${mode}`, "--set-json", "networkPolicy.kubernetesApi.cidrs=[]"]);
    assert.notEqual(result.status, 0, `${mode}: rendered without API server addresses`);
    assert.match(result.stderr, /networkPolicy\.kubernetesApi\.cidrs is empty, so the bot could not reach the API server for its leader Lease: .* or set leaderElection\.mode to Postgres\n/);
  }
  // Without the policies (outside Production, which refuses to run without them) no addresses are needed.
  const staging = ["-f", path.join(chartDir, "values-staging.yaml"), "--set", `image.digest=${sentinelDigest}`];
  const off = runHelm(["template", "bot", chartDir, ...staging, "--set-json", "networkPolicy.kubernetesApi.cidrs=[]", "--set", "networkPolicy.enabled=false"]);
  assert.equal(off.status, 0, off.stderr);
  const prodOff = runHelm(["template", "bot", chartDir, ...prodArgs, "--set", "networkPolicy.enabled=false"]);
  assert.match(prodOff.stderr, /networkPolicy\.enabled is false, but Production runs behind its network policies/);
});

test("leaderElection.mode Postgres: no API server egress, no Role, no API token", () => {
  const docs = renderProd("--set", "leaderElection.mode=Postgres", "--set-json", "networkPolicy.kubernetesApi.cidrs=[]");
  const policy = named(docs, "NetworkPolicy", "bot");
  assert.deepEqual(policy.spec.egress, [dnsRule, databaseRule, telegramRule, otlpRule]);
  assert.equal(ofKind(docs, "Role").length + ofKind(docs, "RoleBinding").length, 0);
  const spec = ofKind(docs, "Deployment")[0].spec.template.spec;
  assert.equal(spec.automountServiceAccountToken, false);
  assert.equal(envValue(spec.containers[0], "Coordination__Mode"), "Postgres");
});

test("the chart refuses a policy that names no database (it would open the database port to every address)", () => {
  const result = runHelm(["template", "bot", chartDir, ...prodArgs, "--set", "networkPolicy.database.podSelector=null"]);
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /networkPolicy\.database: name the database/);
});

test("an empty Telegram list opens no Bot API egress rather than every address", () => {
  const docs = renderProd("--set-json", "networkPolicy.telegram.cidrs=[]");
  assert.deepEqual(named(docs, "NetworkPolicy", "bot").spec.egress, [dnsRule, databaseRule, kubernetesApiRule, otlpRule]);
  assert.deepEqual(named(docs, "NetworkPolicy", "bot-webhook").spec.egress, [dnsRule]);
});

const leaseRules = (name) => [
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [name], verbs: ["get", "update"] },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
];

test("leaderElection.leaseName renames the Lease in the bot's setting and in the Role alike", () => {
  const docs = renderProd("--set", "leaderElection.leaseName=community-bot-leader");
  const bot = ofKind(docs, "Deployment")[0].spec.template.spec.containers[0];
  assert.equal(envValue(bot, "Coordination__LeaseName"), "community-bot-leader");
  assert.deepEqual(ofKind(docs, "Role")[0].rules, leaseRules("community-bot-leader"));
});
