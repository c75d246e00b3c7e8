/**
 * Watches the Secret `memberlist` (MetalLB's name, in the speakers' namespace) and keeps the heartbeat keys
 * it holds: the adapter around {@link HeartbeatKeyRing}, which decides what is accepted and what signs.
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "../../shared/log.ts";
import type { KubeApi } from "../../shared/kube/client/kube-api.ts";
import { secrets } from "../../shared/kube/client/resource-types.ts";
import { startInformer } from "../../shared/kube/informer.ts";
import { projectSecret, type SecretObject } from "../../shared/kube/objects/secret.ts";
import { memberlistSecretName } from "../../shared/kube/memberlist-secret.ts";
import { HeartbeatKeyRing } from "./heartbeat-keys.ts";
import type { HeartbeatKeys } from "./heartbeat-message.ts";

export interface HeartbeatKeyWatchOptions {
  api: KubeApi;
  /** The speakers' namespace (metallb-system). */
  namespace: string;
  /** Default "memberlist". */
  name?: string;
  log: Logger;
  /** See {@link HeartbeatKeyRing}: default 10 s. */
  adoptionDelayMs?: number;
  /** See {@link HeartbeatKeyRing}: default 60 s. */
  graceMs?: number;
  /** Monotonic clock, ms; default performance.now. */
  now?: () => number;
}

/** The heartbeat keys of a running watch. */
export interface HeartbeatKeyWatch {
  /** The keys in force now; undefined until a valid Secret was read. */
  keys(): HeartbeatKeys | undefined;
  /** Resolves after the first successful list (with or without the Secret). */
  synced: Promise<void>;
  stop(): Promise<void>;
}

/**
 * @example
 * const keyWatch = watchHeartbeatKeys({ api, namespace: flags.namespace, log });
 * await keyWatch.synced;
 * openHeartbeatChannel({ ..., keys: () => keyWatch.keys() });
 */
export function watchHeartbeatKeys(opts: HeartbeatKeyWatchOptions): HeartbeatKeyWatch {
  const name = opts.name ?? memberlistSecretName;
  const secret = `${opts.namespace}/${name}`;
  const now = opts.now ?? (() => performance.now());
  const { log } = opts;
  const ring = new HeartbeatKeyRing({ adoptionDelayMs: opts.adoptionDelayMs, graceMs: opts.graceMs });
  const fieldSelector = `metadata.name=${name}`;

  const informer = startInformer<SecretObject>({
    api: opts.api,
    type: secrets,
    namespace: opts.namespace,
    fieldSelector,
    project: projectSecret,
    log,
    onChange: (obj, kind) => {
      if (obj.metadata?.name !== name) return;
      const data = kind === "delete" ? undefined : decodeData(obj);
      const result = ring.update(data, now());
      if (result.ok) {
        if (result.added.length > 0 || result.removed.length > 0) {
          log.info({ secret, added: result.added, removed: result.removed, signing: result.signing }, "heartbeat keys changed");
        }
      } else {
        log.error({ secret, problems: result.problems }, "heartbeat key Secret refused, keeping the previous keys");
      }
      reportChanges();
    },
  });

  let lastSigning: string | undefined;
  let lastAccepted = new Set<string>();
  let lastKeys: HeartbeatKeys | undefined;
  /** Logs what the passage of time changed: a key adopted for signing, a key whose grace ended. */
  function reportChanges(): HeartbeatKeys | undefined {
    const keys = ring.keys(now());
    if (keys === lastKeys) return keys;
    lastKeys = keys;
    if (keys && keys.signing.idHex !== lastSigning) {
      lastSigning = keys.signing.idHex;
      log.info({ secret, keyId: lastSigning }, "signing heartbeats with key");
    }
    const accepted = new Set(keys?.accepted.keys());
    const dropped = [...lastAccepted].filter((id) => !accepted.has(id));
    if (dropped.length > 0) log.info({ secret, keyIds: dropped }, "heartbeat keys no longer accepted");
    lastAccepted = accepted;
    return keys;
  }

  const synced = informer.synced.then(() => {
    if (!ring.keys(now())) {
      log.warn(
        { secret },
        "no usable heartbeat key (the Secret is missing or refused; the controller creates it at start): until there is one this speaker sends no heartbeats and ignores its peers' (failover waits for Lease expiry)",
      );
    }
  });
  return { keys: reportChanges, synced, stop: () => informer.stop() };
}

function decodeData(obj: SecretObject): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(obj.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]));
}
