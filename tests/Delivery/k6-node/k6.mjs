import { add, sleepSeconds } from "./state.mjs";

/** k6's check: each named predicate adds one sample to the `checks` rate, tagged with its name and the tags. */
export function check(value, predicates, tags = {}) {
  let all = true;
  for (const [name, predicate] of Object.entries(predicates)) {
    let ok;
    try {
      ok = Boolean(predicate(value));
    } catch {
      ok = false;
    }
    add("checks", "rate", ok ? 1 : 0, { ...tags, check: name });
    all &&= ok;
  }
  return all;
}

export function sleep(seconds) {
  sleepSeconds(seconds);
}

export function group(_name, fn) {
  return fn();
}

export function fail(message) {
  throw new Error(message);
}
