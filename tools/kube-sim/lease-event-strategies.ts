/**
 * Strategies of Leases and Events, which PUT may create and whose MicroTime fields (lease acquire/renew times,
 * event times) kube-apiserver decodes strictly as RFC 3339 with exactly six fractional digits
 * ("2006-01-02T15:04:05.000000Z07:00"). A JavaScript `Date#toISOString()` value (three digits) is refused with
 * 400, as a real apiserver does, so clients must send `V1MicroTime`-style timestamps.
 *
 * @example
 * microTimeProblem("2024-05-01T10:00:00.123Z"); // 'parsing time "2024-05-01T10:00:00.123Z" as ...'
 */
import { isPlainObject } from "./json-value.ts";
import type { KindStrategy } from "./kind-strategy.ts";
import type { KubeObject } from "./resources.ts";

const microLayout = "2006-01-02T15:04:05.000000Z07:00";
const microRe = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

/** Go's parse error for a MicroTime string, or undefined when it parses. */
export function microTimeProblem(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") return `json: cannot unmarshal ${typeof value} into Go value of type string`;
  if (microRe.test(value)) return undefined;
  const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(value);
  if (!m) return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(microLayout)}: cannot parse ${JSON.stringify(value)} as "2006"`;
  const rest = value.slice(m[0].length);
  const frac = /^\.\d{6}/.exec(rest);
  const elem = frac ? rest.slice(7) : rest;
  return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(microLayout)}: cannot parse ${JSON.stringify(elem)} as ${JSON.stringify(frac ? "Z07:00" : ".000000")}`;
}

function at(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const p of path.split(".")) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function int32Problem(obj: KubeObject, path: string, goField: string): string | undefined {
  const v = at(obj, path);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
    return `json: cannot unmarshal ${typeof v === "number" ? "number " + String(v) : typeof v} into Go struct field ${goField}.${path} of type int32`;
  }
  return undefined;
}

function stringProblem(obj: KubeObject, path: string, goField: string): string | undefined {
  const v = at(obj, path);
  if (v === undefined || v === null || typeof v === "string") return undefined;
  return `json: cannot unmarshal ${Array.isArray(v) ? "array" : typeof v} into Go struct field ${goField}.${path} of type string`;
}

function microTimes(paths: readonly string[]): (obj: KubeObject) => string | undefined {
  return (obj) => {
    for (const p of paths) {
      const problem = microTimeProblem(at(obj, p));
      if (problem) return problem;
    }
    return undefined;
  };
}

const leaseTimes = microTimes(["spec.acquireTime", "spec.renewTime"]);

const leaseStrategy: KindStrategy = {
  allowCreateOnUpdate: true,
  decodeProblem: (obj) =>
    stringProblem(obj, "spec.holderIdentity", "LeaseSpec") ??
    int32Problem(obj, "spec.leaseDurationSeconds", "LeaseSpec") ??
    int32Problem(obj, "spec.leaseTransitions", "LeaseSpec") ??
    leaseTimes(obj),
};

const coreEventStrategy: KindStrategy = {
  allowCreateOnUpdate: true,
  decodeProblem: microTimes(["eventTime", "series.lastObservedTime"]),
};

const eventsV1Strategy: KindStrategy = {
  allowCreateOnUpdate: true,
  decodeProblem: microTimes(["eventTime", "series.lastObservedTime"]),
};

/** Strategies keyed "<group>/<Kind>" for Leases and both Event APIs. */
export function leaseAndEventStrategies(): [string, KindStrategy][] {
  return [
    ["coordination.k8s.io/Lease", leaseStrategy],
    ["/Event", coreEventStrategy],
    ["events.k8s.io/Event", eventsV1Strategy],
  ];
}
