import { describe, expect, it } from "vitest";
import {
  decideConfig,
  nothingLoaded,
  type ConfigInputs,
  type ConfigState,
  type CustomResourceInput,
  type HeldIps,
} from "../shared/config/config-source.ts";
import {
  initialConfigState,
  isStale,
  leavesOrphanUntouched,
  pendingOldestFirst,
  stepConfigState,
  type ConfigEffect,
  type ConfigStateEvent,
  type ControllerConfigState,
} from "./config-state.ts";
import { creationTime } from "./oldest-first.ts";

const ns = "metallb-system";
const configMapRef = { namespace: ns, name: "config" };

const twoPools = "address-pools:\n- name: default\n  protocol: layer2\n  addresses: [10.0.0.0/29]\n- name: lan\n  protocol: layer2\n  addresses: [10.0.1.0/29]\n";
/** Covers 10.0.2.0/29 too, where the orphan below holds 10.0.2.3. */
const threePools = `${twoPools}- name: dmz\n  protocol: layer2\n  addresses: [10.0.2.0/29]\n`;

const text = (config: string): ConfigInputs => ({ configMap: { state: "present", namespace: ns, name: "config", uid: "cm-uid", data: { config } } });
const deletedCm: ConfigInputs = { configMap: { state: "absent", namespace: ns, name: "config" } };
const crPool = (name: string, addresses: string[]): CustomResourceInput => ({ name, namespace: ns, uid: `uid-${name}`, generation: 1, spec: { addresses } });
const crsOnly = (pools: CustomResourceInput[]): ConfigInputs => ({ configMap: deletedCm.configMap, crds: { pools, advertisements: [] } });
const decide = (from: ConfigState, inputs: ConfigInputs, holders: HeldIps[] = []) => decideConfig(from, inputs, holders);

// Config steps, as shared/config/config-source.ts decides them.
const loaded = decide(nothingLoaded, text(twoPools));
const loadedAgain = decide(loaded, text(threePools));
const unchanged = decide(loaded, text(twoPools));
const invalid = decide(loaded, text("address-pools: ["));
const invalidFirst = decide(nothingLoaded, text("address-pools: ["));
const deleted = decide(loaded, deletedCm);
const emptied = decide(loaded, text("# all pools removed\n"));
const crLoaded = decide(nothingLoaded, crsOnly([crPool("dmz", ["10.0.5.0/29"]), crPool("lan", ["10.0.1.0/29"])]));
const webInDmz: HeldIps = { service: "shop/web", ips: ["10.0.5.1"] };
const dmzDeletedWhileHeld = decide(crLoaded, crsOnly([crPool("lan", ["10.0.1.0/29"])]), [webInDmz]);
const refusedForHolders = decide(loaded, text("address-pools:\n- name: default\n  protocol: layer2\n  addresses: [10.0.0.0/30]\n"), [{ service: "default/web", ips: ["10.0.0.5"] }]);

const configMapTarget = { kind: "ConfigMap", apiVersion: "v1", name: "config", namespace: ns, uid: "cm-uid" };
const messageOf = (config: ConfigState) => ("message" in config.verdict ? config.verdict.message : "");

/**
 * What a config kept out of force reports: the statuses, the stale gauge, the rejection count, the error line and
 * the InvalidConfig Event on the ConfigMap.
 */
function keptReports(
  cause: Extract<ConfigEffect, { kind: "count-rejection" }>["cause"],
  verdict: string,
  config: ConfigState,
  errors: unknown,
  inForce: string | null,
): ConfigEffect[] {
  const event: ConfigEffect = { kind: "record-event", target: configMapTarget, type: "Warning", reason: "InvalidConfig", message: messageOf(config) };
  return [
    { kind: "write-status" },
    { kind: "gauge", gauge: "configStale", value: 1 },
    { kind: "count-rejection", cause },
    { kind: "log", level: "error", msg: "config (re)load failed, config marked stale", fields: { cause, verdict, reason: messageOf(config), errors, inForce } },
    event,
  ];
}

interface Given {
  readonly config?: ConfigState;
  readonly crsExist?: boolean;
  readonly learned?: boolean;
  readonly orphans?: Record<string, string[]>;
  /** Waiting Services and their creationTimestamp. */
  readonly pending?: Record<string, string | undefined>;
}

/** A state as the controller would hold it after `config` was decided, plus what it learned and what waits. */
function given({ config, crsExist = false, learned = false, orphans = {}, pending = {} }: Given): ControllerConfigState {
  let state = initialConfigState(configMapRef);
  if (config !== undefined) state = stepConfigState(state, { kind: "config-decided", config, crsExist }).state;
  for (const [service, ips] of Object.entries(orphans)) state = { ...state, orphans: state.orphans.with(service, ips) };
  for (const [service, at] of Object.entries(pending)) state = { ...state, pending: state.pending.with(service, creationTime(at)) };
  return { ...state, learned };
}

/** What a row checks of the state: what a person would see follow from it. */
interface View {
  readonly inForce: string[] | undefined;
  readonly learned: boolean;
  readonly orphans: Record<string, readonly string[]>;
  readonly pending: string[];
  readonly stale: boolean;
}

function view(state: ControllerConfigState): View {
  return {
    inForce: state.config.inForce?.pools.map((p) => p.name),
    learned: state.learned,
    orphans: Object.fromEntries(state.orphans.entries()),
    pending: pendingOldestFirst(state),
    stale: isStale(state),
  };
}

const nothing: View = { inForce: undefined, learned: false, orphans: {}, pending: [], stale: false };
const twoPoolsLearned: View = { ...nothing, inForce: ["default", "lan"], learned: true };

interface Row {
  readonly name: string;
  readonly given: ControllerConfigState;
  readonly event: ConfigStateEvent;
  readonly then: View;
  readonly effects: readonly ConfigEffect[];
}

const rows: Row[] = [
  // ---- loading and learning
  {
    name: "first load: the config goes in force and every Service's IPs are to be learned",
    given: given({}),
    event: { kind: "config-decided", config: loaded, crsExist: false },
    then: { ...nothing, inForce: ["default", "lan"] },
    effects: [{ kind: "write-status" }, { kind: "gauge", gauge: "configLoaded", value: 1 }, { kind: "learn", services: "all" }],
  },
  {
    name: "first load, learned: Services are reconciled, the load is logged and reported on the ConfigMap",
    given: given({ config: loaded }),
    event: { kind: "assignments-learned", assignments: [{ service: "default/web", ips: ["10.0.0.1"] }], crsExist: false },
    then: twoPoolsLearned,
    effects: [
      { kind: "gauge", gauge: "configStale", value: 0 },
      { kind: "write-status" },
      { kind: "log", level: "info", msg: "config loaded", fields: { pools: ["default", "lan"], source: "ConfigMap metallb-system/config" } },
      { kind: "record-event", target: configMapTarget, type: "Normal", reason: "ConfigLoaded", message: "Config loaded: 2 pool(s) (default, lan)" },
      { kind: "reconcile", services: "all" },
    ],
  },
  {
    name: "learning happens once: a later load learns no Service again when none is an orphan",
    given: given({ config: loaded, learned: true }),
    event: { kind: "config-decided", config: loadedAgain, crsExist: false },
    then: { ...twoPoolsLearned, inForce: ["default", "lan", "dmz"] },
    effects: [{ kind: "write-status" }, { kind: "gauge", gauge: "configLoaded", value: 1 }, { kind: "learn", services: [] }],
  },
  {
    name: "a later load learns the orphans again: the new config may cover them",
    given: given({ config: loaded, learned: true, orphans: { "default/old": ["10.0.2.3"] } }),
    event: { kind: "config-decided", config: loadedAgain, crsExist: false },
    then: { ...twoPoolsLearned, inForce: ["default", "lan", "dmz"], orphans: { "default/old": ["10.0.2.3"] }, stale: true },
    effects: [{ kind: "write-status" }, { kind: "gauge", gauge: "configLoaded", value: 1 }, { kind: "learn", services: ["default/old"] }],
  },
  {
    name: "an orphan re-covered by a later config: no longer an orphan, the config no longer stale",
    given: given({ config: loadedAgain, learned: true, orphans: { "default/old": ["10.0.2.3"] } }),
    event: { kind: "assignments-learned", assignments: [{ service: "default/old", ips: ["10.0.2.3"] }], crsExist: false },
    then: { ...twoPoolsLearned, inForce: ["default", "lan", "dmz"] },
    effects: [
      { kind: "gauge", gauge: "configStale", value: 0 },
      { kind: "write-status" },
      { kind: "log", level: "info", msg: "config loaded", fields: { pools: ["default", "lan", "dmz"], source: "ConfigMap metallb-system/config" } },
      { kind: "record-event", target: configMapTarget, type: "Normal", reason: "ConfigLoaded", message: "Config loaded: 3 pool(s) (default, lan, dmz)" },
      { kind: "reconcile", services: "all" },
    ],
  },
  {
    name: "a Service showing IPs no pool covers: an orphan, left untouched, and the config stale",
    given: given({ config: loaded }),
    event: { kind: "assignments-learned", assignments: [{ service: "default/old", ips: ["10.0.2.3"], refused: "10.0.2.3 is in no pool" }], crsExist: false },
    then: { ...twoPoolsLearned, orphans: { "default/old": ["10.0.2.3"] }, stale: true },
    effects: [
      { kind: "log", level: "error", msg: "service holds IPs that no pool covers; leaving it untouched", fields: { service: "default/old", ips: ["10.0.2.3"], reason: "10.0.2.3 is in no pool" } },
      { kind: "gauge", gauge: "configStale", value: 1 },
      { kind: "write-status" },
      { kind: "log", level: "info", msg: "config loaded", fields: { pools: ["default", "lan"], source: "ConfigMap metallb-system/config" } },
      { kind: "record-event", target: configMapTarget, type: "Normal", reason: "ConfigLoaded", message: "Config loaded: 2 pool(s) (default, lan)" },
      { kind: "reconcile", services: "all" },
    ],
  },
  {
    name: "a Service whose IPs lie in a pool but are not valid for it: reassigned, not an orphan",
    given: given({ config: loaded }),
    event: { kind: "assignments-learned", assignments: [{ service: "default/dup", ips: ["10.0.0.1"], refused: "10.0.0.1 is held by default/web" }], crsExist: false },
    then: twoPoolsLearned,
    effects: [
      { kind: "log", level: "warn", msg: "existing assignment not valid; will reassign", fields: { service: "default/dup", ips: ["10.0.0.1"], reason: "10.0.0.1 is held by default/web" } },
      { kind: "gauge", gauge: "configStale", value: 0 },
      { kind: "write-status" },
      { kind: "log", level: "info", msg: "config loaded", fields: { pools: ["default", "lan"], source: "ConfigMap metallb-system/config" } },
      { kind: "record-event", target: configMapTarget, type: "Normal", reason: "ConfigLoaded", message: "Config loaded: 2 pool(s) (default, lan)" },
      { kind: "reconcile", services: "all" },
    ],
  },
  {
    name: "the same inputs again: only the statuses are due",
    given: given({ config: loaded, learned: true }),
    event: { kind: "config-decided", config: unchanged, crsExist: false },
    then: twoPoolsLearned,
    effects: [{ kind: "write-status" }],
  },

  // ---- kept configs: availability first
  {
    name: "invalid config with a last good one in force: the last good one stays, nothing is learned, it is reported",
    given: given({ config: loaded, learned: true }),
    event: { kind: "config-decided", config: invalid, crsExist: false },
    then: { ...twoPoolsLearned, stale: true },
    effects: keptReports("invalid", "kept-because-invalid", invalid, expect.any(Array), "ConfigMap metallb-system/config"),
  },
  {
    name: "invalid config with none loaded yet: nothing in force, nothing learned, no Service reconciled",
    given: given({}),
    event: { kind: "config-decided", config: invalidFirst, crsExist: false },
    then: { ...nothing, stale: true },
    effects: keptReports("invalid", "kept-because-invalid", invalidFirst, expect.any(Array), null),
  },
  {
    name: "config deleted: the last good one stays in force, reported on the deleted ConfigMap by its last uid",
    given: given({ config: loaded, learned: true }),
    event: { kind: "config-decided", config: deleted, crsExist: false },
    then: { ...twoPoolsLearned, stale: true },
    effects: keptReports("deleted", "kept-because-deleted", deleted, [], "ConfigMap metallb-system/config"),
  },
  {
    name: "config emptied: the last good one stays in force",
    given: given({ config: loaded, learned: true }),
    event: { kind: "config-decided", config: emptied, crsExist: false },
    then: { ...twoPoolsLearned, stale: true },
    effects: keptReports("empty", "kept-because-empty", emptied, [], "ConfigMap metallb-system/config"),
  },
  {
    name: "a deleted pool a Service still holds: blocked and kept in force, a Warning on the deleted pool by its last uid",
    given: given({ config: crLoaded, crsExist: true, learned: true }),
    event: { kind: "config-decided", config: dmzDeletedWhileHeld, crsExist: true },
    then: { ...nothing, inForce: ["dmz", "lan"], learned: true, stale: true },
    effects: [
      { kind: "write-status" },
      { kind: "gauge", gauge: "configStale", value: 1 },
      { kind: "count-rejection", cause: "would-orphan-ips" },
      {
        kind: "log",
        level: "error",
        msg: "config (re)load failed, config marked stale",
        fields: {
          cause: "would-orphan-ips",
          verdict: "kept-because-it-would-orphan",
          reason: messageOf(dmzDeletedWhileHeld),
          errors: ["shop/web holds 10.0.5.1 (10.0.5.1 is in no pool of the new config)"],
          inForce: "2 IPAddressPools, 0 L2Advertisements in metallb-system",
        },
      },
      {
        kind: "record-event",
        target: { kind: "IPAddressPool", apiVersion: "metallb.io/v1beta1", name: "dmz", namespace: ns, uid: "uid-dmz" },
        type: "Warning",
        reason: "WouldTakeIPs",
        message:
          "IPAddressPool metallb-system/dmz was deleted but stays in force while Services hold its IPs: shop/web holds 10.0.5.1; " +
          "delete those Services or give them other IPs, and the deletion applies as soon as they are gone",
      },
    ],
  },

  // ---- freed IPs, waiting Services, orphans going
  {
    name: "IPs freed while a config waits for its holders: the config is tried again, then waiting Services oldest first",
    given: given({
      config: refusedForHolders,
      learned: true,
      pending: { "default/late": "2024-05-01T12:00:01Z", "default/early": "2024-05-01T12:00:00Z", "default/undated": undefined },
    }),
    event: { kind: "ips-freed", ips: ["10.0.0.5"] },
    then: { ...twoPoolsLearned, pending: ["default/undated", "default/early", "default/late"], stale: true },
    effects: [
      { kind: "write-status" },
      { kind: "gauge", gauge: "configStale", value: 1 },
      { kind: "reconcile-config" },
      { kind: "reconcile", services: ["default/undated", "default/early", "default/late"] },
    ],
  },
  {
    name: "nothing freed and no config waiting: nobody is retried",
    given: given({ config: loaded, learned: true, pending: { "default/late": "2024-05-01T12:00:01Z" } }),
    event: { kind: "ips-freed", ips: [] },
    then: { ...twoPoolsLearned, pending: ["default/late"] },
    effects: [{ kind: "write-status" }, { kind: "gauge", gauge: "configStale", value: 0 }],
  },
  {
    name: "a Service waits for an IP: counted",
    given: given({ config: loaded, learned: true }),
    event: { kind: "service-waiting", service: "default/web", createdAt: creationTime("2024-05-01T12:00:00Z") },
    then: { ...twoPoolsLearned, pending: ["default/web"] },
    effects: [{ kind: "gauge", gauge: "pendingServices", value: 1 }],
  },
  {
    name: "a waiting Service gets its IP: no longer counted",
    given: given({ config: loaded, learned: true, pending: { "default/web": "2024-05-01T12:00:00Z" } }),
    event: { kind: "service-allocated", service: "default/web" },
    then: twoPoolsLearned,
    effects: [{ kind: "gauge", gauge: "pendingServices", value: 0 }],
  },
  {
    name: "a waiting Service is deleted: no longer counted",
    given: given({ config: loaded, learned: true, pending: { "default/web": "2024-05-01T12:00:00Z" } }),
    event: { kind: "service-gone", service: "default/web" },
    then: twoPoolsLearned,
    effects: [{ kind: "gauge", gauge: "pendingServices", value: 0 }],
  },
  {
    name: "an orphan is deleted: the config is no longer stale, and nothing freed means nobody retried",
    given: given({ config: loaded, learned: true, orphans: { "default/old": ["10.0.2.3"] }, pending: { "default/web": "2024-05-01T12:00:00Z" } }),
    event: { kind: "service-gone", service: "default/old" },
    then: { ...twoPoolsLearned, pending: ["default/web"] },
    effects: [{ kind: "write-status" }, { kind: "gauge", gauge: "configStale", value: 0 }],
  },
  {
    name: "an orphan shows other IPs: reconciled like any Service again",
    given: given({ config: loaded, learned: true, orphans: { "default/old": ["10.0.2.3"] } }),
    event: { kind: "orphan-changed", service: "default/old" },
    then: twoPoolsLearned,
    effects: [{ kind: "write-status" }, { kind: "gauge", gauge: "configStale", value: 0 }],
  },
  {
    name: "Namespace labels change before anything was learned: nobody is retried",
    given: given({ config: invalidFirst, pending: { "default/web": "2024-05-01T12:00:00Z" } }),
    event: { kind: "namespaces-changed" },
    then: { ...nothing, pending: ["default/web"], stale: true },
    effects: [],
  },
  {
    name: "Namespace labels change: waiting Services are retried oldest first",
    given: given({ config: loaded, learned: true, pending: { "default/b": "2024-05-01T12:00:00Z", "default/a": "2024-05-01T12:00:05Z" } }),
    event: { kind: "namespaces-changed" },
    then: { ...twoPoolsLearned, pending: ["default/b", "default/a"] },
    effects: [{ kind: "reconcile", services: ["default/b", "default/a"] }],
  },
];

describe("stepConfigState", () => {
  it.each(rows)("$name", ({ given: start, event, then, effects }) => {
    const step = stepConfigState(start, event);
    expect(view(step.state)).toEqual(then);
    expect(step.effects).toEqual(effects);
  });

  it("never changes the state it was given", () => {
    const start = given({ config: loaded, learned: true, orphans: { "default/old": ["10.0.2.3"] }, pending: { "default/web": undefined } });
    const before = view(start);
    stepConfigState(start, { kind: "service-gone", service: "default/old" });
    stepConfigState(start, { kind: "service-allocated", service: "default/web" });
    stepConfigState(start, { kind: "config-decided", config: loadedAgain, crsExist: false });
    expect(view(start)).toEqual(before);
  });

  it("refuses to complete a load that did not happen", () => {
    expect(() => stepConfigState(given({ config: invalid }), { kind: "assignments-learned", assignments: [], crsExist: false })).toThrow(
      'assignments-learned completes a loaded config; the config state\'s verdict is "kept-because-invalid"',
    );
  });

  it("reports a config on the ConfigMap only when it exists, existed, or no CR could carry it", () => {
    const crOnly = stepConfigState(given({}), { kind: "config-decided", config: decide(nothingLoaded, crsOnly([crPool("bad", ["10.0.0.300/24"])])), crsExist: true });
    expect(crOnly.effects.map((e) => e.kind)).toContain("count-rejection");
    expect(crOnly.effects.filter((e) => e.kind === "record-event")).toEqual([]);
  });
});

describe("leavesOrphanUntouched", () => {
  const state = given({ config: loaded, learned: true, orphans: { "default/old": ["10.0.2.3"] } });

  it.each<[string, string, string[], boolean]>([
    ["an orphan still showing its IPs", "default/old", ["10.0.2.3"], true],
    ["an orphan showing other IPs", "default/old", ["10.0.0.1"], false],
    ["an orphan showing no IP", "default/old", [], false],
    ["a Service that is no orphan", "default/web", ["10.0.2.3"], false],
  ])("%s: %s", (_, service, shows, untouched) => {
    expect(leavesOrphanUntouched(state, service, shows)).toBe(untouched);
  });
});
