/**
 * The simulator faults an informer must come through, as one table of scenarios run against two informers:
 * client-node's (tools/kube-sim/informer-faults.test.ts, which checks the simulator's faults against a known
 * client) and ours (shared/kube/informer-faults.test.ts). After each fault, every view the informer gives of the
 * namespace "default" (its cache, and for ours the changes it reported) must equal the server's Services.
 *
 * Call it inside a `describe`; it registers the scenarios and an `afterEach` that stops the subject and the
 * simulator.
 *
 * @example
 * describe("startInformer stays equal to the server", () => {
 *   informerFaultScenarios({ start: startServiceInformer, stop, resumesWithoutRelist: true, convergeMs: 8000 });
 * });
 */
import { afterEach, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";

/** One running informer on Services, as the scenarios see it. */
export interface FaultHarness {
  sim: KubeSim;
  /** Lists it made so far (the first included). */
  lists(): number;
  /** Lists and watches that failed so far. */
  errors(): number;
  /** Each view of "default" the informer gives, by name (e.g. "cache"): Service name → resourceVersion. */
  views(): Record<string, Record<string, string>>;
  /** Whether its cache holds the Service. */
  has(name: string, namespace: string): boolean;
}

export interface FaultSubject {
  /** Starts the informer on "default" (or every namespace) of `sim`, and waits until it has listed. */
  start(sim: KubeSim, allNamespaces: boolean): Promise<FaultHarness>;
  /** Stops what `start` started (called after every scenario). */
  stop(): Promise<void>;
  /** A re-watch resumes from the last resourceVersion instead of relisting (client-node relists). */
  resumesWithoutRelist: boolean;
  /** How long a view may take to equal the server after the fault. */
  convergeMs: number;
}

function serverState(s: KubeSim): Record<string, string> {
  const type = s.state.registry.find("", "v1", "services")!;
  return Object.fromEntries(s.state.list(type, "default").map((o) => [o.object.metadata.name!, o.object.metadata.resourceVersion!]));
}

/**
 * Creates, changes and deletes Services in the server, in "default" and one in "kube-system" (in-process, so the
 * changes do not depend on the faults).
 */
function churn(s: KubeSim, tag: string): void {
  const type = s.state.registry.find("", "v1", "services")!;
  for (let i = 0; i < 5; i++) {
    s.state.create(type, "default", { metadata: { name: `${tag}-${i}` }, spec: { ports: [{ port: 80 + i }] } });
  }
  s.state.create(type, "kube-system", { metadata: { name: `${tag}-elsewhere` }, spec: { ports: [{ port: 80 }] } });
  const first = s.state.get(type, "default", `${tag}-0`).object;
  s.state.update(type, "default", `${tag}-0`, { ...first, metadata: { ...first.metadata, labels: { changed: "yes" } } });
  s.state.delete(type, "default", `${tag}-1`);
}

const sorted = (o: Record<string, string>) => JSON.stringify(Object.entries(o).sort());

/** Registers the scenarios; see the module comment. */
export function informerFaultScenarios(subject: FaultSubject): void {
  let sim: KubeSim | undefined;
  afterEach(async () => {
    await subject.stop();
    await sim?.stop();
    sim = undefined;
  });

  async function converged(h: FaultHarness): Promise<void> {
    const deadline = Date.now() + subject.convergeMs;
    for (;;) {
      const want = serverState(h.sim);
      const views = h.views();
      if (Object.values(views).every((view) => sorted(view) === sorted(want))) return;
      if (Date.now() > deadline) for (const [name, view] of Object.entries(views)) expect(view, `${name} after the deadline`).toEqual(want);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function started(allNamespaces = false): Promise<FaultHarness> {
    sim = await startKubeSim();
    churn(sim, "before");
    const h = await subject.start(sim, allNamespaces);
    await converged(h);
    return h;
  }

  it(`after dropped watches${subject.resumesWithoutRelist ? ", resuming without a relist" : ""}`, async () => {
    const h = await started();
    h.sim.faults.dropWatches();
    churn(h.sim, "after");
    await converged(h);
    h.sim.faults.dropWatches();
    churn(h.sim, "again");
    await converged(h);
    if (subject.resumesWithoutRelist) expect(h.lists()).toBe(1);
  });

  for (const code of [500, 503, 429] as const) {
    it(`after ${code} answers to its re-watch`, async () => {
      const h = await started();
      h.sim.faults.failNext(2, code, 1);
      h.sim.faults.dropWatches();
      churn(h.sim, `after${code}`);
      await converged(h);
      expect(h.errors()).toBeGreaterThan(0);
      if (subject.resumesWithoutRelist) expect(h.lists()).toBe(1);
    });
  }

  it("after a failed list on start", async () => {
    sim = await startKubeSim();
    churn(sim, "before");
    sim.faults.failNext(1, 500);
    const h = await subject.start(sim, false);
    churn(sim, "after");
    await converged(h);
    expect(h.errors()).toBe(1);
    expect(h.lists()).toBe(2);
  });

  it("with added latency", async () => {
    const h = await started();
    h.sim.faults.setLatency(150);
    h.sim.faults.dropWatches();
    churn(h.sim, "slow");
    await converged(h);
    h.sim.faults.setLatency(0);
  });

  it("after compaction: the re-watch gets 410 Gone, the informer relists and converges", async () => {
    const h = await started();
    const listsBefore = h.lists();
    // Hold the re-watch in the server long enough for changes and a compaction to pass its resourceVersion.
    h.sim.faults.setLatency(200);
    h.sim.faults.dropWatches();
    churn(h.sim, "compacted");
    h.sim.faults.compact();
    await new Promise((r) => setTimeout(r, 250));
    h.sim.faults.setLatency(0);
    await converged(h);
    expect(h.lists()).toBeGreaterThan(listsBefore);
  });

  it("across all namespaces after dropped watches and a compaction", async () => {
    const h = await started(true);
    expect(h.has("before-elsewhere", "kube-system")).toBe(true);
    const listsBefore = h.lists();
    h.sim.faults.setLatency(200);
    h.sim.faults.dropWatches();
    churn(h.sim, "all");
    h.sim.faults.compact();
    await new Promise((r) => setTimeout(r, 250));
    h.sim.faults.setLatency(0);
    await converged(h);
    expect(h.lists()).toBeGreaterThan(listsBefore);
    expect(h.has("all-elsewhere", "kube-system")).toBe(true);
  });

  it("after a server restart (connections reset, 100 ms down, state kept)", async () => {
    const h = await started();
    await h.sim.faults.restart(100);
    churn(h.sim, "restarted");
    await converged(h);
    expect(h.errors()).toBeGreaterThan(0);
  });
}
