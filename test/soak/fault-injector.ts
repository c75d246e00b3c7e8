/**
 * Carries out the soak's planned faults on a running lab cluster and records each one as a {@link FaultRecord}
 * for the checker: injected, held for its duration, healed, then released once the cluster is whole and the VIP
 * has settled (or a bound passed). Stopping cuts every hold short and heals at once.
 *
 * @example
 * const injector = new FaultInjector({ lab, ownerNode: () => nodeOf(watch.answeringMac()), settled, log });
 * void injector.run(planned); // returns when the fault is released
 * await injector.stop();      // heals whatever is active, waits for the flows to end
 */
import type { LabCluster } from "../../tools/lab/lab-cluster.ts";
import { blockApi, cutApiHost, cutNode, type Heal } from "../../tools/netns/net-faults.ts";
import type { TopologyNode } from "../../tools/netns/topology.ts";
import type { FaultRecord } from "./checker.ts";
import { isNodeFault, type PlannedApiFault, type PlannedFault, type PlannedNodeFault } from "./fault-plan.ts";

export interface InjectorDeps {
  lab: LabCluster;
  /** The node whose MAC answers ARP for the VIP now, if any. */
  ownerNode: () => TopologyNode | undefined;
  /** Resolves once the VIP looks settled (one answering MAC for a while), or after `ms` in any case. */
  settled: (ms: number) => Promise<void>;
  /** Progress lines (timeline). */
  log: (line: string) => void;
}

/** How long, at most, the VIP may take to settle after a heal before the fault is released anyway. */
const settleBoundMs = 20_000;
/** Disruption within this long after an API fault heals is still attributed to it. */
const apiAftermathMs = 5_000;

/** A fault's record plus what the harness itself had to do about it. */
export interface InjectedFault extends FaultRecord {
  detail: string;
  durationMs: number;
  /** A harness-side problem (e.g. a restarted speaker that never became ready); makes the soak fail. */
  error?: string;
}

export class FaultInjector {
  readonly faults: InjectedFault[] = [];
  /** Speakers that exited without being killed by us, restarted as a kubelet would. */
  readonly unexpectedExits: { node: string; at: number; code: number | null }[] = [];
  readonly #d: InjectorDeps;
  readonly #stop = new AbortController();
  readonly #flows = new Set<Promise<void>>();
  /** Speaker processes we killed on purpose. */
  readonly #killed = new WeakSet<object>();
  /** Nodes whose speaker is being restarted (by a fault's heal, or after an unexpected exit). */
  readonly #restarting = new Set<string>();
  #nodeBusy = false;
  #apiBusy = false;

  constructor(deps: InjectorDeps) {
    this.#d = deps;
  }

  get nodeSlotFree(): boolean {
    return !this.#nodeBusy;
  }

  get apiSlotFree(): boolean {
    return !this.#apiBusy;
  }

  /** Starts a planned fault in the background; its slot is taken until it is released. */
  start(planned: PlannedFault): void {
    if (this.#stop.signal.aborted) return;
    const flow = isNodeFault(planned) ? this.#nodeFault(planned) : this.#apiFault(planned);
    this.#flows.add(flow);
    void flow.finally(() => this.#flows.delete(flow));
  }

  /** Restarts any speaker that died without our doing (counted in `unexpectedExits`). */
  async reviveCrashed(): Promise<void> {
    const { lab } = this.#d;
    for (const node of lab.topo.nodes) {
      const proc = lab.speakers.get(node.name);
      if (!proc || this.#restarting.has(node.name) || this.#killed.has(proc.child)) continue;
      if (proc.child.exitCode === null && proc.child.signalCode === null) continue;
      this.unexpectedExits.push({ node: node.name, at: Date.now(), code: proc.child.exitCode });
      this.#d.log(`speaker on ${node.name} exited by itself (code ${proc.child.exitCode}, signal ${proc.child.signalCode}): restarting it`);
      await this.#restartSpeaker(node).catch((err: unknown) => this.#d.log(`restart of ${node.name}'s speaker failed: ${(err as Error).message.split("\n")[0]}`));
    }
  }

  /** Cuts every hold short, heals, and waits (bounded) for every flow to finish. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.race([Promise.all([...this.#flows]), sleep(90_000)]);
  }

  /** Sleeps `ms`, or less when the injector is stopped. */
  #hold(ms: number): Promise<void> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done);
    });
  }

  async #restartSpeaker(node: TopologyNode): Promise<void> {
    this.#restarting.add(node.name);
    try {
      await this.#d.lab.startSpeaker(node);
    } finally {
      this.#restarting.delete(node.name);
    }
  }

  async #kill(node: TopologyNode): Promise<void> {
    const proc = this.#d.lab.speakers.get(node.name);
    if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    this.#killed.add(proc.child);
    proc.child.kill("SIGKILL");
    await Promise.race([proc.exited, sleep(5_000)]);
  }

  async #nodeFault(p: PlannedNodeFault): Promise<void> {
    this.#nodeBusy = true;
    const { lab, log } = this.#d;
    const owner = this.#d.ownerNode();
    const nodes = lab.topo.nodes;
    // While nobody answers for the VIP there is no owner to hit: "owner" then means the first node, and the
    // fault does not count as hitting the owner (no failover budget).
    const ownerNode = owner ?? nodes[0];
    const others = nodes.filter((n) => n !== ownerNode);
    const target = p.target === "owner" ? ownerNode : others[p.target.peer % others.length];
    const peers = nodes.filter((n) => n !== target);
    const record: InjectedFault = {
      id: this.faults.length + 1,
      kind: p.kind,
      target: target.name,
      ownerTargeted: owner !== undefined && target === owner,
      start: Date.now(),
      detail: `${p.kind}${p.direction ? ` (${p.direction})` : ""} of ${target.name}${owner === target ? " (the owner)" : ""} for ${(p.durationMs / 1000).toFixed(1)} s`,
      durationMs: p.durationMs,
    };
    this.faults.push(record);
    try {
      log(`#${record.id} inject: ${record.detail}`);
      let heal: Heal = async () => {};
      switch (p.kind) {
        case "partition":
          heal = await cutNode(target, peers, "both");
          break;
        case "asymmetric-cut":
          heal = await cutNode(target, peers, p.direction ?? "outbound");
          break;
        case "speaker-kill":
          await this.#kill(target);
          heal = () => this.#restartSpeaker(target);
          break;
        case "link-flap":
          await lab.topo.linkDown(target);
          heal = () => lab.topo.linkUp(target);
          break;
        case "node-crash":
          await this.#kill(target);
          await lab.topo.linkDown(target);
          heal = async () => {
            await lab.topo.linkUp(target);
            await this.#restartSpeaker(target);
          };
          break;
      }
      await this.#hold(p.durationMs);
      record.healedAt = Date.now();
      log(`#${record.id} heal: ${p.kind} of ${target.name}`);
      try {
        await heal();
      } catch (err) {
        record.error = `heal failed: ${(err as Error).message.split("\n")[0]}`;
        log(`#${record.id} ${record.error}`);
      }
      await this.#d.settled(settleBoundMs);
    } catch (err) {
      record.error ??= `inject failed: ${(err as Error).message.split("\n")[0]}`;
      log(`#${record.id} ${record.error}`);
    } finally {
      record.releasedAt = Date.now();
      log(`#${record.id} released`);
      this.#nodeBusy = false;
    }
  }

  async #apiFault(p: PlannedApiFault): Promise<void> {
    this.#apiBusy = true;
    const { lab, log } = this.#d;
    const record: InjectedFault = {
      id: this.faults.length + 1,
      kind: p.kind,
      ownerTargeted: false,
      start: Date.now(),
      detail: `${p.kind} for ${(p.durationMs / 1000).toFixed(1)} s`,
      durationMs: p.durationMs,
    };
    this.faults.push(record);
    try {
      log(`#${record.id} inject: ${record.detail}`);
      const heal = p.kind === "api-outage" ? await blockApi(lab.topo) : await cutApiHost(lab.topo);
      await this.#hold(p.durationMs);
      record.healedAt = Date.now();
      log(`#${record.id} heal: ${p.kind}`);
      await heal();
      await this.#hold(apiAftermathMs);
    } catch (err) {
      record.error = `${p.kind} failed: ${(err as Error).message.split("\n")[0]}`;
      log(`#${record.id} ${record.error}`);
    } finally {
      record.releasedAt = Date.now();
      this.#apiBusy = false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type { FaultRecord };
