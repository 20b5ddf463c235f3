// Module resolution: the k6 modules a script imports are answered by this folder's implementations.
const modules = {
  k6: "./k6.mjs",
  "k6/http": "./http.mjs",
  "k6/execution": "./execution.mjs",
  "k6/metrics": "./metrics.mjs",
};

export async function resolve(specifier, context, nextResolve) {
  if (Object.hasOwn(modules, specifier)) return { url: new URL(modules[specifier], import.meta.url).href, shortCircuit: true };
  return nextResolve(specifier, context);
}
