import { access } from "node:fs/promises";
import type { Logger } from "../../shared/log.ts";
import { statusOf, describeError } from "../../shared/kube/api-errors.ts";
import type { KubeApi } from "../../shared/kube/client/kube-api.ts";
import { configMaps } from "../../shared/kube/client/resource-types.ts";
import { projectConfigMap } from "../../shared/kube/objects/config-map.ts";
import type { EventRecorder } from "../../shared/kube/event-recorder.ts";
import type { SpeakerMetrics } from "../metrics.ts";
import { fetchProxyMode } from "./proxy-mode-endpoint.ts";
import { parseKubeProxyConfig, strictArpVerdict, type KubeProxyConfig, type StrictArpVerdict } from "./strict-arp.ts";
import { readArpSysctls } from "./sysctl-read.ts";

export interface StrictArpCheckOptions {
  api: KubeApi;
  node: string;
  nodeUid: () => string | undefined;
  log: Logger;
  metrics: SpeakerMetrics;
  events: EventRecorder;
  /** The interfaces we announce on now (their sysctls count). */
  interfaces: () => string[];
  proxyModeUrl: string;
  sysClassNet?: string;
  confRoot?: string;
}

/**
 * Checks, on this node, whether kube-proxy's IPVS mode would make every kernel answer ARP for our
 * VIPs (strictARP off: effective `arp_ignore` < 1 on an announcing interface). Reports a change of
 * verdict once: a Warning Event `StrictARPDisabled` on the Node with the exact fix, an error log
 * line and `baremetal_lb_strict_arp_ok{node}` = 0; when fixed, a Normal `StrictARPEnabled` Event and
 * the metric back to 1.
 *
 * @example
 * const check = new StrictArpCheck(opts);
 * const verdict = await check.run(); // call periodically
 */
export class StrictArpCheck {
  private readonly opts: StrictArpCheckOptions;
  private lastOk: boolean | undefined;

  constructor(opts: StrictArpCheckOptions) {
    this.opts = opts;
  }

  /** True when the last check failed. */
  failing(): boolean {
    return this.lastOk === false;
  }

  async run(): Promise<StrictArpVerdict> {
    const { log, metrics, events, node } = this.opts;
    const [configMap, proxyModeEndpoint, kubeIpvs0Present, sysctls] = await Promise.all([
      this.readKubeProxyConfig(),
      fetchProxyMode(this.opts.proxyModeUrl, 1000),
      access(`${this.opts.sysClassNet ?? "/sys/class/net"}/kube-ipvs0`).then(
        () => true,
        () => false,
      ),
      readArpSysctls(this.opts.interfaces(), this.opts.confRoot),
    ]);
    const verdict = strictArpVerdict({ configMap, proxyModeEndpoint, kubeIpvs0Present, sysctls });
    metrics.strictArpOk.set({ node }, verdict.ok ? 1 : 0);
    const target = { kind: "Node", apiVersion: "v1", name: node, uid: this.opts.nodeUid() };
    if (!verdict.ok) {
      if (this.lastOk !== false) {
        log.error({ node, mode: verdict.mode, interfaces: verdict.interfaces, reason: verdict.reason, fix: verdict.fix }, "strictARP is off: kernels answer ARP for the VIPs");
        await events.record(target, "Warning", "StrictARPDisabled", `${verdict.reason}. Fix: ${verdict.fix}`);
      }
    } else {
      if (verdict.warning) log.warn({ node, warning: verdict.warning }, "strictARP partly configured");
      if (this.lastOk === false) {
        log.info({ node, detail: verdict.detail }, "strictARP check passes again");
        await events.record(target, "Normal", "StrictARPEnabled", `strictARP check passes: ${verdict.detail}`);
      }
    }
    this.lastOk = verdict.ok;
    return verdict;
  }

  private async readKubeProxyConfig(): Promise<KubeProxyConfig | undefined> {
    try {
      const cm = projectConfigMap(await this.opts.api.get({ ...configMaps, namespace: "kube-system", name: "kube-proxy" }));
      const text = cm.data?.["config.conf"];
      if (text === undefined) return undefined;
      const parsed = parseKubeProxyConfig(text);
      if (!parsed.ok) {
        this.opts.log.warn({ error: parsed.error }, "kube-system/kube-proxy config.conf not understood");
        return undefined;
      }
      return parsed.config;
    } catch (err) {
      const code = statusOf(err);
      if (code !== 404) this.opts.log.debug({ err: describeError(err) }, "kube-system/kube-proxy not readable");
      return undefined;
    }
  }
}
