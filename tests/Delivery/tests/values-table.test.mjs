// The README's values table generator (values-table.mjs) follows helm-docs' conventions, and its --check mode
// fails on a stale table.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import yaml from "js-yaml";
import { descriptions, render, rows, table } from "../values-table.mjs";
import { chartDir, deliveryDir } from "./lib.mjs";

const values = `# A file header, no key of its own.

# -- The environment.
environment: Development

# A section comment without the marker.
# -- The image,
# over two lines.
image:
  # -- Registry host.
  registry: registry.example.com
  tag: ""
  nested:
    # -- Deep.
    deeper: 1
# -- Pod labels | with a pipe, for <release>.
podLabels: {}
# -- A described map is one row.
resources:
  requests:
    cpu: 10m
plain:
  # An ordinary comment does not describe.
  count: 3

  # -- A blank line above does not matter, the marker directly above does.
  ratio: 0.5
list: []
`;

test("a `# --` comment directly above a key describes it, with its continuation lines, under its dotted name", () => {
  const found = descriptions(values);
  assert.deepEqual(Object.fromEntries(found), {
    environment: "The environment.",
    image: "The image, over two lines.",
    "image.registry": "Registry host.",
    "image.nested.deeper": "Deep.",
    podLabels: "Pod labels | with a pipe, for <release>.",
    resources: "A described map is one row.",
    "plain.ratio": "A blank line above does not matter, the marker directly above does.",
  });
});

test("rows: leaves and empty maps are rows; a map is descended unless described; types as helm-docs names them", () => {
  const parsed = yaml.load(values);
  const byKey = Object.fromEntries(rows(parsed, descriptions(values)).map((row) => [row.key, row]));
  assert.deepEqual(Object.keys(byKey), [
    "environment", "image", "podLabels", "resources", "plain.count", "plain.ratio", "list",
  ]);
  assert.deepEqual(byKey.image, { key: "image", type: "object", default: JSON.stringify(parsed.image), description: "The image, over two lines." });
  assert.equal(byKey["plain.count"].type, "int");
  assert.equal(byKey["plain.count"].description, "");
  assert.equal(byKey["plain.ratio"].type, "float");
  assert.equal(byKey.list.type, "list");
  assert.equal(byKey.podLabels.type, "object");
  assert.equal(byKey.environment.type, "string");
  // Without a description on the map, its keys are the rows.
  const undescribed = values.replace("# -- The image,\n# over two lines.\n", "");
  assert.deepEqual(rows(yaml.load(undescribed), descriptions(undescribed)).map((row) => row.key).slice(1, 4), ["image.registry", "image.tag", "image.nested.deeper"]);
});

test("the table is Markdown with Key | Type | Default | Description, pipes escaped, placeholders kept visible", () => {
  const lines = table(values).split("\n");
  assert.equal(lines[0], "| Key | Type | Default | Description |");
  assert.ok(lines.includes("| `podLabels` | object | `{}` | Pod labels \\| with a pipe, for &lt;release&gt;. |"), lines.join("\n"));
  assert.ok(lines.includes("| `environment` | string | `\"Development\"` | The environment. |"));
});

test("render replaces only what stands between the markers, and is stable", () => {
  const readme = readFileSync(path.join(chartDir, "README.md"), "utf8");
  const once = render(readme.replace(/\| `environment` \|[^\n]*\n/, ""), readFileSync(path.join(chartDir, "values.yaml"), "utf8"));
  assert.equal(once, readme, "a row taken away comes back, nothing else changes");
  assert.throws(() => render("# no markers\n", values), /no values-table markers/);
});

test("--check fails on a README whose table is stale and passes once rewritten", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "values-table-"));
  try {
    cpSync(path.join(chartDir, "values.yaml"), path.join(dir, "values.yaml"));
    cpSync(path.join(chartDir, "README.md"), path.join(dir, "README.md"));
    const run = (...args) => spawnSync(process.execPath, [path.join(deliveryDir, "values-table.mjs"), ...args], { encoding: "utf8", env: { ...process.env, CHART_DIR: dir } });
    assert.equal(run("--check").status, 0, "the committed README is current");
    const changed = readFileSync(path.join(dir, "values.yaml"), "utf8").replace(/^# -- Development, Staging or Production:/m, "# -- Development, Staging or Production (changed):");
    writeFileSync(path.join(dir, "values.yaml"), changed);
    const stale = run("--check");
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, /the values table is not what values\.yaml's comments give; run node tests\/Delivery\/values-table\.mjs/);
    assert.equal(run().status, 0);
    assert.match(readFileSync(path.join(dir, "README.md"), "utf8"), /\| `environment` \| string \| `"Development"` \| Development, Staging or Production \(changed\):/);
    assert.equal(run("--check").status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
