// Runs before any .ts file loads (npm start, npm test, …): on a Node too old to strip types, Herald
// would otherwise fail with "Unknown file extension .ts" or "Map.groupBy is not a function".
// CommonJS and plain syntax, so that it runs, and explains, on any Node still in use.
"use strict";

// undici 8 (the delivery HTTP client) needs 22.19; testcontainers, in the test suite, 22.22.
// vitest supports the even (LTS) lines only past 22.
const needs = {
  run: { minimum: [22, 19, 0], oddLinesOk: true },
  test: { minimum: [22, 22, 0], oddLinesOk: false },
};

const purpose = process.argv[2] === "test" ? "test" : "run";
const rule = needs[purpose];
const version = process.versions.node.split(".").map(Number);

function atLeast(have, want) {
  for (let i = 0; i < want.length; i++) {
    if (have[i] !== want[i]) return have[i] > want[i];
  }
  return true;
}

const ok = atLeast(version, rule.minimum) && (rule.oddLinesOk || version[0] <= 22 || version[0] % 2 === 0);
if (!ok) {
  console.error(
    "Herald needs Node.js " +
      rule.minimum.join(".") +
      " or newer" +
      (rule.oddLinesOk ? "" : " (an even-numbered release line)") +
      " to " +
      purpose +
      "; this is Node.js " +
      process.versions.node +
      " (" +
      process.execPath +
      ").",
  );
  process.exit(1);
}
