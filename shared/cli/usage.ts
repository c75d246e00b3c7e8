import type { CommandSpec, FlagSpec } from "./parse-flags.ts";

const width = 110;

/** Splits text into lines that fit the usage width when printed `indent` columns in. */
function wrap(text: string, indent: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function defaultNote(spec: FlagSpec): string {
  if (spec.required) return "required";
  if (spec.defaultText !== undefined) return `default: ${spec.defaultText}`;
  if (spec.default === undefined || spec.default === false) return spec.type === "boolean" ? "default: off" : "default: none";
  if (spec.default === true) return "default: on";
  return `default: ${spec.default}`;
}

/**
 * The `--help` text of a command, generated from its flag table: the synopsis, the summary, then every flag with
 * its value placeholder, what it does and its default (or "required"), and `-h, --help` last.
 *
 * @example
 * formatUsage(controllerCommand); // "usage: npm run controller -- [flags]\n\n…\n\nflags:\n  --kubeconfig PATH  …"
 */
export function formatUsage(command: CommandSpec): string {
  const rows: [string, string][] = Object.entries(command.flags).map(([name, spec]) => {
    const left = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""}`;
    const repeat = spec.multiple ? "; may be repeated" : "";
    return [left, `${spec.help}${repeat} (${defaultNote(spec)})`];
  });
  if (command.positionals) rows.unshift([command.positionals.name, command.positionals.help]);
  if (!("help" in command.flags)) rows.push(["-h, --help", "print this help and exit"]);
  const column = Math.min(Math.max(...rows.map(([left]) => left.length)) + 2, 34);
  const out = [`usage: ${command.synopsis}`, "", ...wrap(command.summary, 0), "", command.positionals ? "arguments and flags:" : "flags:"];
  const pad = " ".repeat(column + 2);
  for (const [left, right] of rows) {
    const head = `  ${left}`;
    const body = wrap(right, pad.length);
    if (head.length + 2 <= pad.length) out.push(`${head.padEnd(pad.length)}${body.shift() ?? ""}`);
    else out.push(head);
    for (const line of body) out.push(`${pad}${line}`);
  }
  return `${out.join("\n")}\n`;
}

/**
 * The one-line reminder printed after a usage error: the synopsis, and that `--help` lists every flag.
 *
 * @example
 * shortUsage(kubeSimCommand); // "usage: npm run kube-sim -- --port PORT … (--help lists every flag and its default)"
 */
export function shortUsage(command: CommandSpec): string {
  return `usage: ${command.synopsis}   (--help lists every flag and its default)`;
}

/** True when the command line asks for help: `--help` or `-h` before any `--`. */
export function helpRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

/**
 * The first thing every entry point does: when the command line asks for help, print the usage on stdout and
 * exit 0, before any flag is validated (so `speaker --help` works without a node name).
 *
 * @example
 * exitWithUsageIfAsked(process.argv.slice(2), controllerCommand);
 */
export function exitWithUsageIfAsked(argv: readonly string[], command: CommandSpec): void {
  if (!helpRequested(argv)) return;
  process.stdout.write(formatUsage(command));
  process.exit(0);
}
