import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * Parses `--flag value` command lines strictly: an unknown flag, a missing value or a stray
 * positional argument throws an Error that names the flag and lists the valid ones.
 *
 * @example
 * const v = parseFlags(process.argv.slice(2), { port: { type: "string" } }, "kube-sim");
 */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  program: string,
): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>>["values"] {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const valid = Object.keys(options)
      .map((k) => `--${k}`)
      .join(", ");
    throw new Error(`${program}: ${(err as Error).message}. Valid flags: ${valid}`);
  }
}

/** Parses a TCP port flag (0–65535), naming the flag in the error. */
export function parsePort(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new Error(`--${flag} "${value}" is not a port number (0-65535)`);
  return n;
}

/** Parses a positive duration in milliseconds from a flag such as "--lease-duration 1500ms" or "2s". */
export function parseDurationMs(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(value.trim());
  if (!m) throw new Error(`--${flag} "${value}" is not a duration; write it like 500ms or 2s`);
  const ms = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  if (ms <= 0) throw new Error(`--${flag} must be greater than zero`);
  return Math.round(ms);
}
