// Performs one request at a time for http.mjs and hands the result back through shared memory, so that the
// script's thread can wait for it synchronously, as a k6 virtual user does.
import { parentPort } from "node:worker_threads";

parentPort.on("message", async ({ request, shared }) => {
  const flag = new Int32Array(shared, 0, 2);
  const bytes = new Uint8Array(shared, 8);
  const begun = performance.now();
  let result;
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    const body = await response.text();
    result = { status: response.status, body, headers: Object.fromEntries(response.headers), duration: performance.now() - begun, error: "" };
  } catch (error) {
    result = { status: 0, body: "", headers: {}, duration: performance.now() - begun, error: String(error?.cause?.code ?? error?.message ?? error) };
  }
  let encoded = new TextEncoder().encode(JSON.stringify(result));
  if (encoded.length > bytes.length) encoded = new TextEncoder().encode(JSON.stringify({ ...result, body: "" }));
  bytes.set(encoded);
  flag[1] = encoded.length;
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
