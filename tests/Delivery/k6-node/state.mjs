// The run's samples and execution state, shared by the k6 module implementations and the runner.
export const samples = new Map(); // metric name → { type, contains, points: [{ value, tags }] }
export const execution = { scenario: { name: "", iterationInTest: 0, iterationInInstance: 0, startTime: 0 }, vu: { idInTest: 1, iterationInScenario: 0 } };
export const started = Date.now();

export function add(name, type, value, tags = {}, contains = "default") {
  let metric = samples.get(name);
  if (!metric) {
    metric = { type, contains, points: [] };
    samples.set(name, metric);
  }
  metric.points.push({ value, tags });
}

/** A synchronous sleep (k6's sleep blocks its virtual user). */
export function sleepSeconds(seconds) {
  if (seconds > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}
