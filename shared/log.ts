import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

const levels: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Most bytes of log lines waiting for stdout. Past this, lines are dropped and counted (see
 * {@link createLogger}): about 10,000 lines, a speaker gaining 10,000 VIPs at once.
 */
export const maxBufferedLogBytes = 4 * 1024 * 1024;
/** How often the count of dropped lines is logged, while lines are being dropped. */
const dropReportMs = 10_000;

/**
 * A pino JSON logger for one component. Values go in fields, never inside `msg`.
 *
 * Without `destination` it writes to stdout asynchronously. pino's default writes synchronously and, when the
 * pipe is full (a log collector that falls behind, thousands of "announcing ip" lines at once), busy-waits until
 * it drains: the event loop stops, and with it heartbeats and decisions. Here lines wait in a buffer of at
 * most {@link maxBufferedLogBytes} instead; what does not fit is dropped, and a warning says how many lines were.
 * The buffer is flushed on exit. (`stdoutBuffer` changes the buffer's size and the warning's delay, for tests.)
 *
 * @example
 * const log = createLogger("controller", "info");
 * log.info({ service: "default/web", ip: "192.168.1.10" }, "ip assigned");
 */
export function createLogger(
  component: string,
  level: string = "info",
  destination?: NodeJS.WritableStream,
  stdoutBuffer: { maxBytes?: number; reportMs?: number } = {},
): Logger {
  if (!levels.includes(level)) {
    throw new Error(`--log-level "${level}" is not a log level; use one of ${levels.join(", ")}`);
  }
  const options = { level: level as LevelWithSilent, base: { component }, timestamp: pino.stdTimeFunctions.isoTime };
  if (destination) return pino(options, destination as pino.DestinationStream);
  const { maxBytes = maxBufferedLogBytes, reportMs = dropReportMs } = stdoutBuffer;
  const stdout = pino.destination({ dest: 1, sync: false, minLength: 0, maxLength: maxBytes });
  const log = pino(options, stdout);
  let dropped = 0;
  let reporter: NodeJS.Timeout | undefined;
  stdout.on("drop", () => {
    dropped++;
    reporter ??= setTimeout(() => {
      reporter = undefined;
      log.warn({ dropped, bufferBytes: maxBytes }, "log lines dropped: stdout is not read as fast as lines are written");
      dropped = 0;
    }, reportMs).unref();
  });
  return log;
}
