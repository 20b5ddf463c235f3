// The Grafana dashboard ConfigMap and the PrometheusRule: off by default, on in staging and production,
// picked up by the Grafana sidecar, every alert linked to a section of docs/runbook.md that exists.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { docsOf, named, ofKind, repoRoot } from "./lib.mjs";

const expectedAlerts = [
  "BotInboxLagHigh", "BotUpdatesDeadLettered", "BotErrorRateHigh", "BotTelegramRateLimited", "BotNoLeader",
  "BotPodRestarting", "BotBackupTooOld",
];

/** GitLab/GitHub heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchors = readFileSync(path.join(repoRoot, "docs/runbook.md"), "utf8")
  .split("\n")
  .filter((line) => /^#{1,6} /.test(line))
  .map((line) => line.replace(/^#+ /, "").trim().toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-"));

test("dev: no dashboard and no PrometheusRule unless asked for", () => {
  assert.equal(ofKind(docsOf("dev"), "PrometheusRule").length, 0);
  assert.equal(named(docsOf("dev"), "ConfigMap", "bot-dashboard"), undefined);
});

for (const variant of ["staging", "prod", "sentinel"]) {
  test(`${variant}: the dashboard ConfigMap carries the sidecar label and valid dashboard JSON with the panels`, () => {
    const configMap = named(docsOf(variant), "ConfigMap", "bot-dashboard");
    assert.ok(configMap, "ConfigMap bot-dashboard");
    assert.equal(configMap.metadata.labels.grafana_dashboard, "1");
    const dashboard = JSON.parse(configMap.data["telegram-bot.json"]);
    assert.equal(dashboard.uid, "telegram-bot");
    const titles = dashboard.panels.map((panel) => panel.title.toLowerCase()).join("\n");
    for (const topic of ["traffic", "latency", "inbox lag", "outbox depth", "429", "errors", "leader", "pods"]) {
      assert.ok(titles.includes(topic), `a panel about ${topic}`);
    }
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0 && panel.targets.every((t) => /\bbot_[a-z_]+/.test(t.expr)), `${panel.title}: queries a bot metric`);
    }
  });

  test(`${variant}: every alert has a severity and a runbook_url that points at an existing runbook section`, () => {
    const [rule] = ofKind(docsOf(variant), "PrometheusRule");
    assert.ok(rule, "PrometheusRule");
    const alerts = rule.spec.groups.flatMap((group) => group.rules);
    const names = alerts.map((alert) => alert.alert);
    // Every environment here backs up, so the backup-age alert is rendered too.
    assert.deepEqual([...names].sort(), [...expectedAlerts].sort());
    for (const alert of alerts) {
      assert.match(alert.labels.severity, /^(critical|warning)$/, `${alert.alert}: severity`);
      const url = alert.annotations.runbook_url;
      assert.match(url, /\/docs\/runbook\.md#[a-z0-9-]+$/, `${alert.alert}: runbook_url`);
      const anchor = url.split("#")[1];
      assert.ok(anchors.includes(anchor), `${alert.alert}: docs/runbook.md has no section #${anchor}`);
    }
  });
}

test("the Alertmanager example routes to a telegram_configs receiver", () => {
  const text = readFileSync(path.join(repoRoot, "charts/bot/files/alertmanager-telegram.yaml"), "utf8");
  assert.match(text, /telegram_configs:/);
  assert.match(text, /bot_token_file:/);
  assert.match(text, /runbook_url/);
});
