/**
 * `npm run convert-config -- FILE|-`: reads a legacy MetalLB ConfigMap (a whole manifest, or only
 * its `config` text) from FILE or stdin, and prints the equivalent IPAddressPools and
 * L2Advertisement as YAML, with a leading comment saying what to do next. On an invalid config it
 * prints each problem on stderr and exits 1; on a usage error, exits 2. The conversion itself is
 * shared/config/convert-legacy.ts.
 *
 * @example
 * npm run convert-config -- manifests/examples/config.yaml > crs.yaml
 * kubectl -n metallb-system get configmap config -o yaml | npm run --silent convert-config -- -
 */
import { readFileSync } from "node:fs";
import { defineCommand, parseCommandLine } from "../shared/cli/parse-flags.ts";
import { formatUsage, helpRequested, shortUsage } from "../shared/cli/usage.ts";
import { convertLegacyConfig } from "../shared/config/convert-legacy.ts";

/** The converter's command line (the parser and `--help` read this). */
export const convertConfigCommand = defineCommand({
  program: "convert-config",
  synopsis: "npm run convert-config -- FILE|-",
  summary:
    "Reads a legacy MetalLB ConfigMap (a whole manifest, or only its config text) and prints the equivalent " +
    "IPAddressPools and L2Advertisement as YAML. On an invalid config it prints each problem on stderr and exits 1.",
  flags: {},
  positionals: { name: "FILE|-", help: "the ConfigMap manifest or its config text; - reads stdin (required)" },
});

function main(args: readonly string[]): number {
  if (helpRequested(args)) {
    process.stdout.write(formatUsage(convertConfigCommand));
    return 0;
  }
  let positionals: string[];
  try {
    positionals = parseCommandLine(args, convertConfigCommand).positionals;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${shortUsage(convertConfigCommand)}\n`);
    return 2;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`convert-config: expected one FILE (or - for stdin), got ${positionals.length}\n${shortUsage(convertConfigCommand)}\n`);
    return 2;
  }
  const [path] = positionals;
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    process.stderr.write(`convert-config: cannot read ${path === "-" ? "stdin" : path}: ${(error as Error).message}\n`);
    return 1;
  }
  const result = convertLegacyConfig(text);
  if (!result.ok) {
    for (const error of result.errors) process.stderr.write(`convert-config: ${error}\n`);
    process.stderr.write(`convert-config: ${result.errors.length} problem(s); nothing converted. Fix them and run again.\n`);
    return 1;
  }
  process.stdout.write(result.yaml);
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
