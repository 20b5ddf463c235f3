// k6's end-of-test summary as the pipeline reads it: handleSummary(data) writes a JUnit report (one test case
// per threshold, failed when the threshold failed), the full summary as JSON and a short text summary on
// stdout. Written here rather than imported from jslib.k6.io so that the scripts run without reaching the
// internet and are checked offline (tests/Delivery/tests/smoke.test.mjs).

const escapeXml = (text) =>
  String(text).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);

/** Every threshold of the run: its metric, its expression, whether it held, and the metric's values. */
export function thresholdResults(data) {
  const results = [];
  for (const [metric, entry] of Object.entries(data.metrics || {})) {
    for (const [expression, outcome] of Object.entries(entry.thresholds || {})) {
      results.push({ metric, expression, ok: Boolean(outcome.ok), values: entry.values || {} });
    }
  }
  return results;
}

const describe = (values) =>
  Object.entries(values)
    .map(([key, value]) => `${key}=${typeof value === 'number' ? Math.round(value * 1000) / 1000 : value}`)
    .join(' ');

/** A JUnit document: suite `name`, one test case per threshold. */
export function junit(data, name) {
  const results = thresholdResults(data);
  const failures = results.filter((result) => !result.ok).length;
  const seconds = ((data.state && data.state.testRunDurationMs) || 0) / 1000;
  const cases = results.map((result) => {
    const caseName = escapeXml(`${result.metric} ${result.expression}`);
    const failure = result.ok ? '' : `<failure message="${escapeXml(`threshold ${result.expression} failed`)}">${escapeXml(describe(result.values))}</failure>`;
    return `    <testcase classname="${escapeXml(name)}" name="${caseName}">${failure}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${results.length}" failures="${failures}" time="${seconds}">`,
    `  <testsuite name="${escapeXml(name)}" tests="${results.length}" failures="${failures}" errors="0" time="${seconds}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** One line per threshold and the request count: what a person reads in the job log. */
export function text(data, name) {
  const lines = [`${name}: ${thresholdResults(data).every((result) => result.ok) ? 'all thresholds held' : 'THRESHOLDS FAILED'}`];
  for (const result of thresholdResults(data)) {
    lines.push(`  ${result.ok ? 'ok  ' : 'FAIL'} ${result.metric} ${result.expression} (${describe(result.values)})`);
  }
  const requests = data.metrics && data.metrics.http_reqs;
  if (requests) lines.push(`  requests: ${requests.values.count} (${Math.round(requests.values.rate * 10) / 10}/s)`);
  return `${lines.join('\n')}\n`;
}

/**
 * handleSummary for a script: `export function handleSummary(data) { return summarize(data, 'smoke'); }`.
 * SUMMARY_DIR (default the working directory) is where the files go: <name>-junit.xml and <name>-summary.json.
 */
export function summarize(data, name) {
  const dir = (__ENV.SUMMARY_DIR || '.').replace(/\/$/, '');
  return {
    stdout: text(data, name),
    [`${dir}/${name}-junit.xml`]: junit(data, name),
    [`${dir}/${name}-summary.json`]: JSON.stringify(data, null, 2),
  };
}
