#!/usr/bin/env bash
# Regenerates the API reference in docs/api/ from the JSDoc of src/ (see docgen.json).
#
#   scripts/docs.sh            write docs/api/
#   scripts/docs.sh DIR        write DIR instead (test/Docs.test.ts compares it with docs/api/)
#
# First every @example of src/*.ts is type-checked (scripts/docs-examples.ts: docgen 0.5.2 compiles only
# some of them, not those of classes, class properties and re-exports). Then @effect/docgen parses src/,
# fails on any export without a description, @since or @example, compiles its examples and runs them
# with tsx. They run offline: scripts/docs-offline.cjs refuses every connection but loopback.
#
# docgen runs in a scratch directory rather than here, because it
#   - reads `name` and a required `homepage` from package.json (ours has no homepage),
#   - takes outDir from docgen.json over its --out flag (the test needs another directory),
#   - rewrites `from "effect-mixpanel"` in examples to `../../src`, relative to <outDir>/examples: for
#     docs/api that is docs/src, so the scratch directory links docs/src to src.
# Its Jekyll scaffolding (index.md, _config.yml, front matter) is dropped: each module's page becomes
# DIR/<Module>.md, listed in DIR/README.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/docs/api}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
export PATH="$root/node_modules/.bin:$PATH"
export LC_ALL=C # the order of the module list

cd "$root"
tsx scripts/docs-examples.ts

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
node -e '
  const pkg = require(process.argv[1])
  const out = { name: pkg.name, homepage: pkg.homepage ?? "", type: "module" }
  require("node:fs").writeFileSync(process.argv[2], JSON.stringify(out))
' "$root/package.json" "$scratch/package.json"
cp "$root/docgen.json" "$scratch/"
mkdir -p "$scratch/docs"
ln -s "$root/src" "$scratch/src"
ln -s "$root/src" "$scratch/docs/src"
ln -s "$root/node_modules" "$scratch/node_modules"

(cd "$scratch" && NODE_OPTIONS="--require $root/scripts/docs-offline.cjs ${NODE_OPTIONS:-}" docgen)

find "$out" -maxdepth 1 -name "*.md" -delete
{
  echo "# API reference"
  echo
  echo "Generated from the JSDoc of \`src/\` by \`scripts/docs.sh\`; edit the sources, not these pages."
  echo
  for page in "$scratch"/docs/api/modules/*.ts.md; do
    module="$(basename "$page" .ts.md)"
    # A title instead of the Jekyll front matter (which docgen's Markdown formatting mangles anyway)
    {
      printf '# %s\n\n' "$module"
      awk 'body { print; next } NR > 1 && /^---$/ { body = 1; getline; if ($0 != "") print }' "$page"
    } >"$out/$module.md"
    echo "- [$module]($module.md)"
  done
} >"$out/README.md"
