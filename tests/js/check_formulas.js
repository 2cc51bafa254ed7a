// Parse formulas with KaTeX and report the ones it cannot render.
//
// stdin:  a JSON array of {"where": "...", "tex": "...", "display": true|false}
// stdout: a JSON array of {"where": "...", "tex": "...", "error": "..."}, one per failure
//         (an empty array when every formula renders).
// Run once for all formulas (tests/test_formulas.py does), not once per formula.
"use strict";
const katex = require("katex");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const failures = [];
  for (const { where, tex, display } of JSON.parse(input)) {
    try {
      // strict "error": what KaTeX would only warn about (LaTeX-incompatible input) fails too
      katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "error" });
    } catch (err) {
      failures.push({ where, tex, error: String(err.message || err) });
    }
  }
  process.stdout.write(JSON.stringify(failures));
});
