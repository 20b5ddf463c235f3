// The image definition: multi-stage AOT build, chiseled non-root final stage, OCI labels, a tight context.
// (No container engine here: these read the Dockerfile; the image itself is built by build:image.)
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./lib.mjs";

const dockerfile = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");
// Logical instructions: continuation lines joined, comments dropped.
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"))
  .map((line) => {
    const [, keyword, rest] = /^(\w+)\s+(.*)$/.exec(line);
    return { keyword: keyword.toUpperCase(), args: rest.replace(/\s+/g, " ") };
  });
const args = Object.fromEntries(instructions.filter((i) => i.keyword === "ARG" && i.args.includes("="))
  .map((i) => i.args.split("=")).map(([name, ...value]) => [name, value.join("=")]));
const expand = (text) => text.replace(/\$\{(\w+)\}/g, (_, name) => args[name] ?? "");
const stages = [];
for (const instruction of instructions) {
  if (instruction.keyword === "FROM") stages.push({ from: instruction.args, instructions: [] });
  else if (stages.length) stages.at(-1).instructions.push(instruction);
}
const [build, final] = stages;
const all = (stage, keyword) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

test("two stages: the .NET 10 SDK builds, the chiseled runtime-deps image runs (each by digest: digests.test.mjs)", () => {
  assert.equal(stages.length, 2);
  assert.match(expand(build.from), /^mcr\.microsoft\.com\/dotnet\/sdk:10\.0\.\d+@sha256:[0-9a-f]{64} AS build$/);
  assert.match(expand(final.from), /^mcr\.microsoft\.com\/dotnet\/runtime-deps:10\.0-noble-chiseled@sha256:[0-9a-f]{64} AS final$/);
});

test("the SDK image carries the SDK that global.json asks for, and the final stage's base label names its digest", () => {
  const sdk = JSON.parse(readFileSync(path.join(repoRoot, "global.json"), "utf8")).sdk.version;
  assert.ok(expand(build.from).startsWith(`mcr.microsoft.com/dotnet/sdk:${sdk}@`), `sdk:${sdk}`);
  const digest = /@(sha256:[0-9a-f]{64})/.exec(expand(final.from))[1];
  assert.match(all(final, "LABEL").join(" "), new RegExp(`org\\.opencontainers\\.image\\.base\\.digest="${digest}"`));
});

test("the restore runs in locked mode from the lock file and nuget.config, both in the build context", () => {
  const copies = all(build, "COPY").join("\n");
  assert.match(copies, /\bnuget\.config\b/);
  assert.match(copies, /src\/Bot\/packages\.lock\.json/);
  assert.match(all(build, "RUN").join("\n"), /dotnet restore src\/Bot\/Bot\.csproj -r linux-x64 --locked-mode/);
});

test("the build stage installs clang and zlib1g-dev and publishes src/Bot with Native AOT for linux-x64 to /out", () => {
  const runs = all(build, "RUN").join("\n");
  assert.match(runs, /apt-get install -y --no-install-recommends clang zlib1g-dev/);
  assert.match(runs, /dotnet publish src\/Bot\/Bot\.csproj -c Release -r linux-x64 --no-restore -o \/out/);
  assert.match(runs, /dotnet restore src\/Bot\/Bot\.csproj -r linux-x64/);
  assert.match(runs, /rm -f \/out\/\*\.dbg/, "debug symbols stay out of the image");
});

test("the final stage: /app/Bot as uid 65532, ports 8080 and 9090, no shell needed", () => {
  assert.deepEqual(all(final, "COPY"), ["--from=build /out/Bot /out/appsettings*.json /app/"]);
  assert.deepEqual(all(final, "USER"), ["65532:65532"]);
  assert.deepEqual(all(final, "ENTRYPOINT"), ['["/app/Bot"]']);
  assert.deepEqual(all(final, "CMD"), ['["serve"]']);
  assert.deepEqual(all(final, "EXPOSE"), ["8080 9090"]);
  assert.deepEqual(all(final, "RUN"), [], "a chiseled image has no shell to RUN with");
});

test("OCI labels come from build arguments (revision, created, version, source)", () => {
  const labels = all(final, "LABEL").join(" ");
  for (const [label, arg] of [["revision", "REVISION"], ["created", "CREATED"], ["version", "VERSION"], ["source", "SOURCE"]]) {
    assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${label}="\\$\\{${arg}\\}"`));
    assert.ok(all(final, "ARG").some((a) => a.startsWith(`${arg}=`)), `ARG ${arg} in the final stage`);
  }
});

test(".dockerignore sends only the build inputs: no .git, bin, obj, node_modules, tests, secrets", () => {
  const lines = readFileSync(path.join(repoRoot, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  assert.equal(lines[0], "*", "deny by default");
  for (const pattern of [".git/", "**/bin/", "**/obj/", "**/node_modules/", "tests/", "**/.env"]) {
    assert.ok(lines.includes(pattern), pattern);
  }
  const allowed = lines.filter((l) => l.startsWith("!")).map((l) => l.slice(1));
  const copied = all(build, "COPY").flatMap((a) => a.split(" ").slice(0, -1)).filter((a) => !a.startsWith("--"));
  for (const source of copied) {
    const top = source.split("/")[0];
    assert.ok(allowed.includes(source) || allowed.includes(`${top}/`), `${source} is copied but excluded from the context`);
  }
});
