import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

const levels: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * A pino JSON logger for one component. Values go in fields, never inside `msg`.
 *
 * @example
 * const log = createLogger("controller", "info");
 * log.info({ service: "default/web", ip: "192.168.1.10" }, "ip assigned");
 */
export function createLogger(component: string, level: string = "info", destination?: NodeJS.WritableStream): Logger {
  if (!levels.includes(level)) {
    throw new Error(`--log-level "${level}" is not a log level; use one of ${levels.join(", ")}`);
  }
  const options = { level: level as LevelWithSilent, base: { component }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
