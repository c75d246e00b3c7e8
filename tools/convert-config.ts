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
import { convertLegacyConfig } from "../shared/config/convert-legacy.ts";

const USAGE = "usage: npm run convert-config -- FILE|-   (- reads stdin; FILE is a ConfigMap manifest or its config text)";

function main(args: readonly string[]): number {
  if (args.length !== 1 || args[0] === "--help" || args[0] === "-h") {
    process.stderr.write(`${USAGE}\n`);
    return args[0] === "--help" || args[0] === "-h" ? 0 : 2;
  }
  const [path] = args;
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

process.exitCode = main(process.argv.slice(2));
