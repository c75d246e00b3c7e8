import { Watch, type KubeConfig, type V1Service } from "@kubernetes/client-node";

/**
 * Watches the Services of one namespace and checks, at every event, the invariants a load
 * balancer controller must never break: a Service shows at most one IP, never shows an IP that
 * another Service shows at the same time, and never changes or loses its IP once it had one.
 * Every breach is kept as a sentence in `violations`.
 *
 * @example
 * const recorder = await ServiceIpRecorder.start(sim.client, "default");
 * // ... run the scenario ...
 * recorder.stop();
 * expect(recorder.violations).toEqual([]);
 */
export class ServiceIpRecorder {
  readonly violations: string[] = [];
  /** The first IP each Service showed. */
  readonly firstIp = new Map<string, string>();
  /** Service name → the IP it shows now (absent when none). */
  readonly #current = new Map<string, string>();
  /** IP → the Service showing it now. */
  readonly #holder = new Map<string, string>();
  #abort: AbortController | undefined;
  #stopping = false;

  private constructor() {}

  static async start(kc: KubeConfig, namespace: string): Promise<ServiceIpRecorder> {
    const recorder = new ServiceIpRecorder();
    recorder.#abort = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/services`,
      {},
      (type: string, svc: V1Service) => recorder.#observe(type, svc),
      (err: unknown) => {
        if (!recorder.#stopping) recorder.violations.push(`the Service watch ended early (${String(err)}); events may have been missed`);
      },
    );
    return recorder;
  }

  stop(): void {
    this.#stopping = true;
    this.#abort?.abort();
  }

  #observe(type: string, svc: V1Service): void {
    const name = svc.metadata?.name ?? "?";
    const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip);
    const previous = this.#current.get(name);
    if (previous !== undefined) {
      this.#current.delete(name);
      this.#holder.delete(previous);
    }
    if (type === "DELETED") return;
    if (ips.length > 1) this.violations.push(`${name} shows ${ips.length} IPs (${ips.join(", ")}); expected one`);
    const ip = ips[0];
    const first = this.firstIp.get(name);
    if (first !== undefined && ip !== first) this.violations.push(`${name} changed from ${first} to ${ip ?? "no IP"}`);
    if (ip === undefined) return;
    if (first === undefined) this.firstIp.set(name, ip);
    const other = this.#holder.get(ip);
    if (other !== undefined) this.violations.push(`${name} and ${other} both show ${ip}`);
    this.#current.set(name, ip);
    this.#holder.set(ip, name);
  }
}
