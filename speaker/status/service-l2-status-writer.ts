import { Counter, Gauge, Registry } from "prom-client";
import { describeError, statusOf } from "../../shared/kube/api-errors.ts";
import type { KubeApi } from "../../shared/kube/client/kube-api.ts";
import { serviceL2Statuses } from "../../shared/kube/client/resource-types.ts";
import { startInformer, type ResilientInformer } from "../../shared/kube/informer.ts";
import type { Logger } from "../../shared/log.ts";
import {
  observeL2Status,
  projectL2Status,
  planServiceL2Status,
  serviceOfL2Status,
  serviceL2StatusBody,
  serviceL2StatusResource,
  type AnnouncedL2Service,
  type L2StatusAction,
  type L2StatusObject,
  type ObservedL2Status,
  type ServiceL2StatusBody,
  type ServiceL2StatusFields,
  type SpeakerPodRef,
} from "./service-l2-status.ts";

/** The API calls the writer makes (an adapter over KubeApi; a fake in tests). */
export interface ServiceL2StatusApi {
  /** Resolves when the servicel2statuses collection is served; rejects with the API error (404: no CRD). */
  probe(): Promise<void>;
  /** Returns the created object. */
  create(body: ServiceL2StatusBody): Promise<unknown>;
  /** Merge-patches /status; returns the updated object. */
  patchStatus(name: string, status: ServiceL2StatusFields): Promise<unknown>;
  delete(name: string): Promise<void>;
}

/** A watch of the servicel2statuses in the namespace (an informer; a fake in tests). */
export interface ServiceL2StatusWatch {
  /** `onEvent` for every add, update and delete (relists included); `onSynced` once the first list is in. */
  start(handlers: { onEvent: (obj: L2StatusObject, kind: "add" | "update" | "delete") => void; onSynced: () => void }): void;
  stop(): Promise<void>;
}

export interface ServiceL2StatusWriterOptions {
  api: ServiceL2StatusApi;
  watch: ServiceL2StatusWatch;
  /** The speaker's namespace, where the objects live (metallb-system). */
  namespace: string;
  node: string;
  /** The speaker Pod (env POD_NAME and POD_UID); without it the objects carry no owner reference. */
  pod?: SpeakerPodRef;
  log: Logger;
  /** Where the metrics go; default a private registry. */
  registry?: Registry;
  /** Sustained write rate of this speaker; default 10 per second. */
  writesPerSecond?: number;
  /** Writes allowed at once after a quiet period; default 20. */
  burst?: number;
  /** Backoff after a failed write, doubling per failure; default 1 s up to 60 s. */
  retryMs?: { initial: number; max: number };
  /** How often to look again for a missing CRD; default 30 s. */
  crdRetryMs?: number;
  /** Monotonic clock in ms; default performance.now. */
  now?: () => number;
}

/** Defaults: see ServiceL2StatusWriter's comment for the arithmetic. */
export const defaultWritesPerSecond = 10;
export const defaultBurst = 20;
const defaultRetry = { initial: 1_000, max: 60_000 };
const defaultCrdRetryMs = 30_000;
/** The longest the writer checks Services without giving the event loop back (ms). */
const maxSliceMs = 2;
/** How long a name we deleted stays deleted in our view while the watch has not said so. */
const tombstoneTtlMs = 60_000;

type Result = "ok" | "not_found" | "already_exists" | "error";

/** An object as we know it: from the watch, or from the response to our own write. */
interface Known {
  object: ObservedL2Status;
  service: string | undefined;
  fromWrite: boolean;
}

/** Is resourceVersion `a` older than `b`? Only numeric ones (etcd revisions) compare; others never are. */
function older(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

const none: readonly string[] = [];

function sameList(x: readonly string[] | undefined, y: readonly string[] | undefined): boolean {
  const a = x ?? none;
  const b = y ?? none;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameWant(a: AnnouncedL2Service | undefined, b: AnnouncedL2Service | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return sameList(a.interfaces, b.interfaces) && sameList(a.alsoAnnouncedBy, b.alsoAnnouncedBy);
}

/** 429, 5xx, 403 and transport errors (no status): the API server or our RBAC, not one object. */
function affectsEveryWrite(status: number | undefined): boolean {
  return status === undefined || status === 429 || status === 403 || status >= 500;
}

/**
 * Keeps this node's ServiceL2Status objects (service-l2-status.ts) in step with what it announces,
 * at a bounded write rate. Fire-and-forget: `sync` stores the latest announced set, marks the
 * Services that changed and returns; writes happen later, never delaying an announcement, and
 * never throw.
 *
 * - Level-triggered per Service, as a client-go work queue: a change (a `sync`, a watch event)
 *   marks the Service dirty; when a write may go, the first dirty Service is planned from the
 *   latest announced set and the latest objects (`planServiceL2Status`) and its next write made.
 *   A Service that flaps while writes wait costs nothing; the work held is one mark per Service,
 *   never a queue of events. Our own writes count as observed at once, so a lagging watch does
 *   not cause them twice.
 * - Token bucket: `writesPerSecond` (default 10) sustained, `burst` (default 20). 10/s is twice
 *   client-go's default client limit (5 QPS, burst 10), spent only while converging; with every
 *   speaker converging at once a cluster of N nodes makes at most 10·N writes/s, and API Priority
 *   and Fairness' 429s pause the writer (backoff) rather than fail it.
 * - Errors: 404 on delete or status update and 409 AlreadyExists on create are fine (the Service
 *   is planned again); 404 on create means no CRD: logged once, looked for every `crdRetryMs`;
 *   429, 5xx, 403 and transport errors pause every write with backoff; other errors back off
 *   that Service (1 s doubling to 60 s).
 *
 * Write cost: zero at steady state (no resync timer). Per announced Service: 2 writes on first
 * announce (create, then status: the status subresource drops a create's status); 2–3 on the new
 * owner after a failover (delete the old node's object if it is still there, create, status), plus
 * 1 delete on the old owner if it is alive; 1 on an interface change; 1 when it stops being
 * announced. At 10,000 Services on 3 nodes with the defaults: a cold start of one speaker owning
 * 3,333 is 6,666 writes, 20 at once then 10/s, ≈ 665 s (11 min) until `kubectl get
 * servicel2statuses` is complete; a node dying hands ≈ 1,667 Services to each survivor, 3 writes
 * each, ≈ 500 s. Announcing does not wait for any of it.
 *
 * @example
 * // speaker.ts, in start(), once (POD_NAME and POD_UID from the downward API: fieldRef metadata.name, metadata.uid):
 * const pod = process.env.POD_NAME && process.env.POD_UID ? { name: process.env.POD_NAME, uid: process.env.POD_UID } : undefined;
 * this.l2Status = startServiceL2StatusWriter({ api, namespace: flags.namespace, node: flags.nodeName, pod, log, registry: metrics.registry });
 * // in decide(), after announcer.setOwned(gated.announce), when gained or lost is non-empty or
 * // this.desired was recomputed (an equal map is cheap to pass, but building one is O(IPs)):
 * this.l2Status.sync(announcedL2Services(flags.nodeName, gated.announce, this.desired.plans));
 * // in shutdown(): stop writing; the objects stay for the next announcer to replace (and go with the Pod)
 * await this.l2Status.stop();
 */
export class ServiceL2StatusWriter {
  private readonly o: ServiceL2StatusWriterOptions;
  private readonly now: () => number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly retry: { initial: number; max: number };
  private readonly writes: Counter<"verb" | "result">;
  private readonly pendingGauge: Gauge;
  private announced: ReadonlyMap<string, AnnouncedL2Service> | undefined;
  private crd: "unknown" | "present" | "missing" = "unknown";
  private crdMissingLogged = false;
  private watching = false;
  private synced = false;
  /** Every object by name, and the names of each Service's objects (one, usually: an array, not a Set, at 10,000 Services). */
  private readonly known = new Map<string, Known>();
  private readonly namesOf = new Map<string, readonly string[]>();
  /** Names we deleted that the watch has not reported deleted yet, with when. */
  private readonly tombstones = new Map<string, number>();
  /** Services whose objects may need writes, in the order they changed. */
  private readonly dirty = new Set<string>();
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private pauseMs: number;
  private readonly backoff = new Map<string, { until: number; delayMs: number }>();
  private draining: Promise<void> | undefined;
  private kickQueued = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private sleeping: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private stopped = false;

  constructor(opts: ServiceL2StatusWriterOptions) {
    this.o = opts;
    this.now = opts.now ?? (() => performance.now());
    this.rate = opts.writesPerSecond ?? defaultWritesPerSecond;
    this.burst = opts.burst ?? defaultBurst;
    if (!(this.rate > 0) || !(this.burst >= 1)) {
      throw new Error(`ServiceL2Status writer: writesPerSecond must be above 0 and burst at least 1, got ${this.rate} and ${this.burst}`);
    }
    this.retry = opts.retryMs ?? defaultRetry;
    this.pauseMs = this.retry.initial;
    this.tokens = this.burst;
    this.refilledAt = this.now();
    const registers = [opts.registry ?? new Registry()];
    this.writes = new Counter({
      name: "baremetal_lb_service_l2_status_writes_total",
      help: "ServiceL2Status API writes by verb (create, update_status, delete) and result (ok, not_found, already_exists, error)",
      labelNames: ["verb", "result"],
      registers,
    });
    this.pendingGauge = new Gauge({
      name: "baremetal_lb_service_l2_status_pending",
      help: "Services whose ServiceL2Status writes are not done yet (rate limit, backoff or missing CRD)",
      registers,
    });
  }

  /** Looks for the CRD, then starts watching and writing. Called by `startServiceL2StatusWriter`. */
  start(): void {
    this.probe();
  }

  /**
   * The Services this node announces now ("namespace/name" → interfaces). Returns at once, after
   * an O(Services) comparison with the previous map. Treat the map as immutable.
   */
  sync(announced: ReadonlyMap<string, AnnouncedL2Service>): void {
    if (this.stopped || announced === this.announced) return;
    const previous = this.announced;
    this.announced = announced;
    if (previous === undefined) {
      if (this.synced) this.markAll();
    } else {
      for (const [key, want] of announced) if (!sameWant(want, previous.get(key))) this.dirty.add(key);
      for (const key of previous.keys()) if (!announced.has(key)) this.dirty.add(key);
    }
    this.kick();
  }

  /** Services whose writes are not done yet (the metric's value). */
  pending(): number {
    return this.dirty.size;
  }

  /** Stops writing and watching; a write in flight finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    clearTimeout(this.probeTimer);
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.resolve();
    }
    await this.draining;
    if (this.watching) await this.o.watch.stop();
  }

  private probe(): void {
    if (this.stopped) return;
    this.o.api.probe().then(
      () => {
        if (this.stopped) return;
        if (this.crd === "missing") this.o.log.info({ resource: serviceL2StatusResource.plural }, "ServiceL2Status CRD found, writing ServiceL2Status objects");
        this.crd = "present";
        this.crdMissingLogged = false;
        this.pauseMs = this.retry.initial;
        if (!this.watching) {
          this.watching = true;
          this.o.watch.start({
            onEvent: (obj, kind) => this.observe(obj, kind),
            onSynced: () => {
              this.synced = true;
              this.markAll();
              this.kick();
            },
          });
        }
        this.markAll();
        this.kick();
      },
      (err: unknown) => {
        if (this.stopped) return;
        if (statusOf(err) === 404) {
          this.crdMissing();
          return;
        }
        this.o.log.warn({ resource: serviceL2StatusResource.plural, err: describeError(err), retryInMs: this.pauseMs }, "ServiceL2Status lookup failed");
        this.probeTimer = setTimeout(() => this.probe(), this.pauseMs);
        this.pauseMs = Math.min(this.pauseMs * 2, this.retry.max);
      },
    );
  }

  private crdMissing(): void {
    this.crd = "missing";
    if (!this.crdMissingLogged) {
      this.crdMissingLogged = true;
      this.o.log.warn(
        { resource: `${serviceL2StatusResource.plural}.${serviceL2StatusResource.group}`, retryEveryMs: this.o.crdRetryMs ?? defaultCrdRetryMs },
        "ServiceL2Status CRD not installed: not writing ServiceL2Status objects (apply manifests/01-crds.yaml)",
      );
    }
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => this.probe(), this.o.crdRetryMs ?? defaultCrdRetryMs);
  }

  /** Every Service we announce or that has objects is checked once more. */
  private markAll(): void {
    for (const key of this.announced?.keys() ?? []) this.dirty.add(key);
    for (const key of this.namesOf.keys()) this.dirty.add(key);
  }

  /** A watch event: update our view of the objects and mark their Service. */
  private observe(projected: L2StatusObject, kind: "add" | "update" | "delete"): void {
    const name = projected.metadata.name;
    if (name === undefined) return;
    const object = kind === "delete" ? undefined : observeL2Status(projected);
    if (!object) {
      this.tombstones.delete(name);
      this.forget(name);
    } else {
      if (this.tombstones.has(name)) return; // a late event of an object we deleted
      const mine = this.known.get(name);
      if (mine?.fromWrite && older(object.resourceVersion, mine.object.resourceVersion)) return; // we know newer
      this.remember(object, false);
    }
    this.kick();
  }

  private remember(object: ObservedL2Status, fromWrite: boolean): void {
    this.forget(object.name);
    const service = serviceOfL2Status(object);
    this.known.set(object.name, { object, service, fromWrite });
    if (service === undefined) return;
    this.namesOf.set(service, (this.namesOf.get(service) ?? []).concat(object.name));
    this.dirty.add(service);
  }

  private forget(name: string): void {
    const old = this.known.get(name);
    if (!old) return;
    this.known.delete(name);
    if (old.service === undefined) return;
    const names = this.namesOf.get(old.service)?.filter((n) => n !== name) ?? [];
    if (names.length > 0) this.namesOf.set(old.service, names.slice());
    else this.namesOf.delete(old.service);
    this.dirty.add(old.service);
  }

  private deleted(name: string): void {
    const now = this.now();
    for (const [n, at] of this.tombstones) if (now - at > tombstoneTtlMs) this.tombstones.delete(n);
    this.tombstones.set(name, now);
    this.forget(name);
  }

  private planFor(service: string): L2StatusAction[] {
    const objects = (this.namesOf.get(service) ?? []).map((n) => this.known.get(n)!.object);
    return planServiceL2Status(this.o.node, service, this.announced?.get(service), objects);
  }

  private kick(): void {
    if (this.stopped || this.kickQueued || this.draining) return;
    this.kickQueued = true;
    setImmediate(() => {
      this.kickQueued = false;
      if (this.draining || this.stopped) return;
      this.draining = this.drain().finally(() => (this.draining = undefined));
    });
  }

  private ready(): boolean {
    return !this.stopped && this.crd === "present" && this.synced && this.announced !== undefined;
  }

  /** Writes until no dirty Service needs one now (done, backed off, or the CRD is missing). */
  private async drain(): Promise<void> {
    while (this.ready()) {
      const now = this.now();
      if (now < this.pausedUntil) {
        await this.sleep(this.pausedUntil - now);
        continue;
      }
      let next: L2StatusAction | undefined;
      let yielded = false;
      const sliceStart = performance.now();
      for (const service of this.dirty) {
        if ((this.backoff.get(service)?.until ?? 0) > now) continue;
        const plan = this.planFor(service);
        if (plan.length > 0) {
          next = plan[0];
          break;
        }
        this.dirty.delete(service);
        this.backoff.delete(service);
        if (performance.now() - sliceStart > maxSliceMs) {
          yielded = true;
          break;
        }
      }
      this.pendingGauge.set(this.dirty.size);
      if (yielded) {
        // Thousands of Services to check (a relist, a first sync): let packets and timers run between slices.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (!next) break;
      const wait = this.takeToken(now);
      if (wait > 0) {
        // Sleep, then plan again: the write made is of the state after the wait.
        await this.sleep(wait);
        continue;
      }
      await this.apply(next); // the Service stays dirty: its next write, if any, is planned after this one
    }
    this.pendingGauge.set(this.dirty.size);
    this.armWake();
  }

  /** Wakes the drain when the first backoff of a dirty Service ends. */
  private armWake(): void {
    clearTimeout(this.wakeTimer);
    if (!this.ready() || this.dirty.size === 0) return;
    let at = Infinity;
    for (const service of this.dirty) at = Math.min(at, this.backoff.get(service)?.until ?? 0);
    this.wakeTimer = setTimeout(() => this.kick(), Math.max(0, at - this.now()));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping = undefined;
        resolve();
      }, Math.ceil(ms));
      this.sleeping = { timer, resolve };
    });
  }

  /** 0 when a token was taken, else the ms until one is available. */
  private takeToken(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.rate) / 1000);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return ((1 - this.tokens) * 1000) / this.rate;
  }

  private async apply(action: L2StatusAction): Promise<void> {
    const { api, log } = this.o;
    const verb = action.verb === "updateStatus" ? "update_status" : action.verb;
    let result: Result = "ok";
    try {
      if (action.verb === "create") {
        const created = observeL2Status(projectL2Status(await api.create(serviceL2StatusBody(this.o.namespace, this.o.node, action.service, this.o.pod))));
        if (created) this.remember(created, true);
        log.debug({ service: action.service, name: created?.name }, "ServiceL2Status created");
      } else if (action.verb === "updateStatus") {
        const updated = observeL2Status(projectL2Status(await api.patchStatus(action.name, action.status)));
        if (updated) this.remember(updated, true);
        log.debug({ service: action.service, name: action.name }, "ServiceL2Status status written");
      } else {
        await api.delete(action.name);
        this.deleted(action.name);
        log.debug({ service: action.service, name: action.name, reason: action.reason }, "ServiceL2Status deleted");
      }
      this.backoff.delete(action.service);
      this.pauseMs = this.retry.initial;
    } catch (err) {
      const status = statusOf(err);
      if (action.verb === "create" && status === 409) {
        result = "already_exists"; // a generated name was taken: the next plan creates again, under another name
      } else if (action.verb !== "create" && status === 404) {
        result = "not_found"; // gone already: what a delete wanted; a status update is planned again as a create
        this.deleted(action.name);
      } else if (action.verb === "create" && status === 404) {
        result = "error";
        this.crdMissing();
      } else {
        result = "error";
        const previous = this.backoff.get(action.service)?.delayMs;
        const delayMs = previous === undefined ? this.retry.initial : Math.min(previous * 2, this.retry.max);
        this.backoff.set(action.service, { until: this.now() + delayMs, delayMs });
        let retryInMs = delayMs;
        const everyWrite = affectsEveryWrite(status);
        if (everyWrite) {
          this.pausedUntil = this.now() + this.pauseMs;
          retryInMs = Math.max(delayMs, this.pauseMs);
          this.pauseMs = Math.min(this.pauseMs * 2, this.retry.max);
        }
        log.warn(
          { service: action.service, verb, name: "name" in action ? action.name : undefined, err: describeError(err), retryInMs, everyWrite },
          "ServiceL2Status write failed",
        );
      }
    }
    this.writes.inc({ verb, result });
  }
}

/** The name the CRD probe lists by: no ServiceL2Status has it (theirs are "l2-" and five characters). */
const probeName = "baremetal-lb-crd-probe";

/** The writer's API calls on KubeApi: ServiceL2Statuses in `namespace`, the status written with merge patches. */
function kubeApiCalls(api: KubeApi, namespace: string): ServiceL2StatusApi {
  const collection = { ...serviceL2Statuses, namespace };
  return {
    // A list that matches no object: 404 without the CRD, an empty list with it (a plain list reads every object, page by page).
    probe: async () => {
      await api.list(collection, { fieldSelector: `metadata.name=${probeName}`, limit: 1 });
    },
    create: (body) => api.create(collection, body),
    // null removes interfaces from a merge patch when none are announced.
    patchStatus: (name, status) => api.patch({ ...collection, name, subresource: "status" }, { status: { interfaces: null, ...status } }, "merge"),
    delete: (name) => api.delete({ ...collection, name }),
  };
}

export interface StartServiceL2StatusWriterOptions extends Omit<ServiceL2StatusWriterOptions, "api" | "watch"> {
  api: KubeApi;
}

/**
 * Starts a `ServiceL2StatusWriter` on `api`: it looks for the CRD, then watches servicel2statuses
 * in `namespace` (cached as {@link L2StatusObject}: only the fields the writer reads) and writes.
 * RBAC (a Role in `namespace` suffices): servicel2statuses list, watch, create, delete;
 * servicel2statuses/status patch.
 *
 * @example
 * const writer = startServiceL2StatusWriter({ api, namespace: "metallb-system", node: "node-1", pod: { name: env.POD_NAME, uid: env.POD_UID }, log });
 * writer.sync(new Map([["default/web", { interfaces: ["eth0"] }]]));
 */
export function startServiceL2StatusWriter(opts: StartServiceL2StatusWriterOptions): ServiceL2StatusWriter {
  let informer: ResilientInformer<L2StatusObject> | undefined;
  const watch: ServiceL2StatusWatch = {
    start({ onEvent, onSynced }) {
      // Started once the CRD was found (see probe). Should the CRD go later, the list counts as empty
      // and is looked for again every crdRetryMs, as MetalLB's other resources are (metallb-resources.ts).
      const started = startInformer<L2StatusObject>({
        api: opts.api,
        type: serviceL2Statuses,
        namespace: opts.namespace,
        project: projectL2Status,
        log: opts.log,
        onChange: onEvent,
        missingIsEmpty: true,
        missingRetryMs: opts.crdRetryMs ?? defaultCrdRetryMs,
      });
      informer = started;
      void started.synced.then(onSynced);
    },
    stop: async () => {
      await informer?.stop();
    },
  };
  const writer = new ServiceL2StatusWriter({ ...opts, api: kubeApiCalls(opts.api, opts.namespace), watch });
  writer.start();
  return writer;
}
