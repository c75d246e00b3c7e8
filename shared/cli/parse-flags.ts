import { parseArgs } from "node:util";

/**
 * One command-line flag: how it parses, what `--help` says about it, and its default. The parser and the usage
 * text both read this, so the flags a binary accepts and the flags its `--help` lists cannot drift apart.
 */
export interface FlagSpec {
  type: "string" | "boolean";
  /** What the flag does, one sentence (printed by `--help`). */
  help: string;
  /** The value's placeholder in the usage text, e.g. "PATH" (string flags; default "VALUE"). */
  value?: string;
  /** The value used when the flag is absent, written as on the command line ("15s", "7472"); `--help` shows it. */
  default?: string | boolean;
  /** For a flag without a literal default: what happens when it is absent ("$POD_NAME, else the hostname"). */
  defaultText?: string;
  /** The flag must be given; the parser says so when it is missing. */
  required?: boolean;
  /** The flag may be repeated; its value is the list of every occurrence. */
  multiple?: boolean;
  short?: string;
}

/** A binary's flags, by long name without the dashes. */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** A command-line entry point: its name, what it does and the flags it takes (the one source of its `--help`). */
export interface CommandSpec<F extends FlagTable = FlagTable> {
  /** Prefixes every error, e.g. "controller". */
  program: string;
  /** How to run it, e.g. "npm run controller -- [flags]". */
  synopsis: string;
  /** What it does, a few sentences. */
  summary: string;
  flags: F;
  /** The positional arguments it takes, if any; without this a positional argument is an error. */
  positionals?: { name: string; help: string };
}

type FlagValue<S extends FlagSpec> = S["type"] extends "boolean" ? boolean : S["multiple"] extends true ? string[] : string;

/** The parsed flags: a flag with a default or `required` is always present, the others may be undefined. */
export type FlagValues<F extends FlagTable> = {
  -readonly [K in keyof F as F[K] extends { default: string | boolean } | { required: true } ? K : never]: FlagValue<F[K]>;
} & {
  -readonly [K in keyof F as F[K] extends { default: string | boolean } | { required: true } ? never : K]?: FlagValue<F[K]>;
};

/**
 * Declares a command with its flag table, keeping the table's literal types so that parsed values are typed.
 *
 * @example
 * const cmd = defineCommand({ program: "p", synopsis: "p [flags]", summary: "…", flags: { port: { type: "string", help: "…", default: "0" } } });
 */
export function defineCommand<const F extends FlagTable>(command: CommandSpec<F>): CommandSpec<F> {
  return command;
}

/**
 * Parses a command line strictly against the command's flag table: an unknown flag, a missing value, a missing
 * required flag or an unexpected positional argument throws an Error that names it and lists the valid flags.
 * Absent flags take their table default. `--help`/`-h` is always accepted (see usage.ts).
 *
 * @example
 * const { values, positionals } = parseCommandLine(["--port", "0", "file"], cmd);
 */
export function parseCommandLine<F extends FlagTable>(argv: readonly string[], command: CommandSpec<F>): { values: FlagValues<F>; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: string | boolean | string[] | boolean[] }> = {};
  for (const [name, spec] of Object.entries(command.flags)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
    if (spec.default !== undefined) options[name].default = spec.multiple ? ([spec.default] as string[] | boolean[]) : spec.default;
  }
  options.help ??= { type: "boolean", short: "h" };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: command.positionals !== undefined });
  } catch (err) {
    const valid = Object.keys(options).map((k) => `--${k}`).join(", ");
    throw new Error(`${command.program}: ${(err as Error).message}. Valid flags: ${valid}`);
  }
  for (const [name, spec] of Object.entries(command.flags)) {
    if (spec.required && parsed.values[name] === undefined) throw new Error(`${command.program}: --${name} is required (${spec.help})`);
  }
  delete parsed.values.help;
  return { values: parsed.values as FlagValues<F>, positionals: parsed.positionals };
}

/**
 * The flags of a command without positional arguments; see parseCommandLine.
 *
 * @example
 * const v = parseFlags(process.argv.slice(2), controllerCommand); // v["metrics-port"] === "7472" when absent
 */
export function parseFlags<F extends FlagTable>(argv: readonly string[], command: CommandSpec<F>): FlagValues<F> {
  return parseCommandLine(argv, command).values;
}

/** Parses a TCP port flag (0–65535), naming the flag in the error. */
export function parsePort(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new Error(`--${flag} "${value}" is not a port number (0-65535)`);
  return n;
}

/** Parses a positive duration in milliseconds from a flag such as "--lease-duration 1500ms" or "2s". */
export function parseDurationMs(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(value.trim());
  if (!m) throw new Error(`--${flag} "${value}" is not a duration; write it like 500ms or 2s`);
  const ms = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  if (ms <= 0) throw new Error(`--${flag} must be greater than zero`);
  return Math.round(ms);
}
