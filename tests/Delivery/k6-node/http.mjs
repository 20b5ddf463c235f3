// k6/http's synchronous requests: the request goes to a worker thread, the virtual user waits for its answer.
// Every request adds http_reqs, http_req_duration and http_req_failed samples (expected statuses 200–399, as
// k6's default), tagged with the request's tags, method and status.
import { Worker } from "node:worker_threads";
import { add } from "./state.mjs";

const worker = new Worker(new URL("./http-worker.mjs", import.meta.url));
worker.unref();
const shared = new SharedArrayBuffer(8 + (4 << 20));

function request(method, url, body, params = {}) {
  const flag = new Int32Array(shared, 0, 2);
  Atomics.store(flag, 0, 0);
  const timeoutMs = parseDuration(params.timeout ?? "60s");
  worker.postMessage({ request: { method, url, body: body ?? undefined, headers: params.headers ?? {}, timeoutMs }, shared });
  Atomics.wait(flag, 0, 0);
  const result = JSON.parse(new TextDecoder().decode(new Uint8Array(shared, 8, flag[1]).slice()));
  const tags = { method, status: String(result.status), ...(params.tags ?? {}) };
  add("http_reqs", "counter", 1, tags);
  add("http_req_duration", "trend", result.duration, tags, "time");
  const expected = params.responseCallback?.expected ?? ((status) => status >= 200 && status < 400);
  add("http_req_failed", "rate", expected(result.status) ? 0 : 1, tags);
  return {
    status: result.status,
    body: result.body,
    headers: result.headers,
    error: result.error,
    timings: { duration: result.duration },
    json(selector) {
      const value = JSON.parse(result.body);
      return selector ? selector.split(".").reduce((node, key) => node?.[key], value) : value;
    },
  };
}

export function parseDuration(text) {
  if (typeof text === "number") return text;
  let ms = 0;
  for (const [, amount, unit] of String(text).matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    ms += Number(amount) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[unit];
  }
  return ms;
}

/** k6's http.expectedStatuses: statuses (numbers or { min, max } ranges) that do not count as failed. */
export function expectedStatuses(...statuses) {
  return {
    expected: (status) => statuses.some((entry) => (typeof entry === "number" ? status === entry : status >= entry.min && status <= entry.max)),
  };
}

export const get = (url, params) => request("GET", url, null, params);
export const post = (url, body, params) => request("POST", url, body, params);
export const put = (url, body, params) => request("PUT", url, body, params);
export const del = (url, body, params) => request("DELETE", url, body, params);
export const batch = (requests) => requests.map(([method, url, body, params]) => request(method, url, body, params));

export default { get, post, put, del, batch, request, expectedStatuses };
