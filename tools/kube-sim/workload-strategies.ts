/**
 * Strategies of the built-in kinds other than Service and CustomResourceDefinition: Namespaces (phase, the
 * `kubernetes` finalizer, the `kubernetes.io/metadata.name` label), Pods (Pending status, container defaults,
 * required containers), workloads with server-owned status, and Endpoints (which PUT may create).
 *
 * @example
 * const strategies = new Map(workloadStrategies());
 */
import type { StatusCause } from "./api-error.ts";
import { invalidValue, nameProblems, required } from "./field-errors.ts";
import { isPlainObject } from "./json-value.ts";
import type { KindStrategy } from "./kind-strategy.ts";
import type { KubeObject } from "./resources.ts";

function namespaceLabel(obj: KubeObject): void {
  obj.metadata.labels = { ...(obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": obj.metadata.name ?? "" };
}

const namespaceStrategy: KindStrategy = {
  nameRule: "dns1123-label",
  statusOnCreate: () => ({ phase: "Active" }),
  prepareForCreate(obj) {
    const spec = isPlainObject(obj.spec) ? obj.spec : {};
    if (!Array.isArray(spec.finalizers)) spec.finalizers = ["kubernetes"];
    obj.spec = spec;
    namespaceLabel(obj);
  },
  prepareForUpdate(obj, old) {
    // spec.finalizers change only through /finalize; the name label is kept by the server.
    obj.spec = old.spec;
    namespaceLabel(obj);
  },
};

interface Container {
  name?: unknown;
  image?: unknown;
  imagePullPolicy?: unknown;
  ports?: { protocol?: unknown }[];
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
  [key: string]: unknown;
}

function defaultContainer(c: Container): void {
  if (!isPlainObject(c)) return;
  if (c.imagePullPolicy === undefined && typeof c.image === "string") {
    const tag = /:([^:/@]+)$/.exec(c.image)?.[1];
    c.imagePullPolicy = tag === undefined || tag === "latest" ? "Always" : "IfNotPresent";
  }
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  c.resources ??= {};
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isPlainObject(p)) p.protocol ??= "TCP";
}

function qosClass(spec: Record<string, unknown>): string {
  const containers = (Array.isArray(spec.containers) ? spec.containers : []) as Container[];
  const withResources = containers.filter((c) => Object.keys(c.resources?.limits ?? {}).length + Object.keys(c.resources?.requests ?? {}).length > 0);
  if (withResources.length === 0) return "BestEffort";
  const guaranteed = containers.every((c) => {
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    return ["cpu", "memory"].every((r) => limits[r] !== undefined && (requests[r] === undefined || String(requests[r]) === String(limits[r])));
  });
  return guaranteed ? "Guaranteed" : "Burstable";
}

function validatePodSpec(spec: unknown): StatusCause[] {
  if (!isPlainObject(spec)) return [required("spec")];
  const causes: StatusCause[] = [];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) return [required("spec.containers")];
  const names = new Set<string>();
  containers.forEach((c: unknown, i) => {
    const path = `spec.containers[${i}]`;
    if (!isPlainObject(c)) {
      causes.push(invalidValue(path, c, "must be an object"));
      return;
    }
    if (typeof c.name !== "string" || c.name === "") causes.push(required(`${path}.name`));
    else {
      for (const p of nameProblems(c.name, "dns1123-label")) causes.push(invalidValue(`${path}.name`, c.name, p));
      if (names.has(c.name)) causes.push({ reason: "FieldValueDuplicate", message: `Duplicate value: "${c.name}"`, field: `${path}.name` });
      names.add(c.name);
    }
    if (typeof c.image !== "string" || c.image.trim() === "") causes.push(required(`${path}.image`));
  });
  return causes;
}

const podStrategy: KindStrategy = {
  statusOnCreate: (obj) => ({ phase: "Pending", qosClass: qosClass(isPlainObject(obj.spec) ? obj.spec : {}) }),
  prepareForCreate(obj) {
    if (!isPlainObject(obj.spec)) return;
    const spec = obj.spec;
    spec.restartPolicy ??= "Always";
    spec.dnsPolicy ??= "ClusterFirst";
    spec.schedulerName ??= "default-scheduler";
    spec.terminationGracePeriodSeconds ??= 30;
    spec.enableServiceLinks ??= true;
    spec.securityContext ??= {};
    if (Array.isArray(spec.containers)) for (const c of spec.containers) defaultContainer(c as Container);
  },
  validate: (obj) => validatePodSpec(obj.spec),
};

const serverOwnedStatus: KindStrategy = { statusOnCreate: () => ({}) };
const createOnUpdate: KindStrategy = { allowCreateOnUpdate: true };

/** Strategies keyed "<group>/<Kind>" for namespaces, pods, workloads, endpoints, events and leases. */
export function workloadStrategies(): [string, KindStrategy][] {
  return [
    ["/Namespace", namespaceStrategy],
    ["/Pod", podStrategy],
    ["/Endpoints", createOnUpdate],
    ["apps/Deployment", serverOwnedStatus],
    ["apps/DaemonSet", serverOwnedStatus],
    ["policy/PodDisruptionBudget", serverOwnedStatus],
  ];
}
