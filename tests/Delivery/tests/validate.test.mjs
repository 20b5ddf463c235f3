// The manifest validator itself bites: unknown kinds, unknown fields and wrong types fail.
import test from "node:test";
import assert from "node:assert/strict";
import { validateText } from "../validate.mjs";

const deployment = (container) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - ${JSON.stringify(container)}
`;

test("a valid Deployment with a preStop sleep passes", async () => {
  const [result] = await validateText(deployment({ name: "c", image: "i", lifecycle: { preStop: { sleep: { seconds: 5 } } } }));
  assert.deepEqual(result.problems, []);
});

test("a misspelt field is reported with its path", async () => {
  const [result] = await validateText(deployment({ name: "c", image: "i", securityContext: { runAsNonroot: true } }));
  assert.deepEqual(result.problems, ["unknown field /spec/template/spec/containers/0/securityContext/runAsNonroot"]);
});

test("a kind the models do not know fails, and so does an unknown apiVersion", async () => {
  const results = await validateText("apiVersion: v1\nkind: Servce\nmetadata: {name: s}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n");
  assert.deepEqual(results.map((r) => r.problems), [["unknown kind Servce in v1"], ["unknown apiVersion example.com/v1"]]);
});

test("a wrong type fails", async () => {
  const [result] = await validateText("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: http}]}\n");
  assert.equal(result.problems.length, 1);
  assert.match(result.problems[0], /port must be integer/);
});
