/**
 * The Secret that holds the speakers' heartbeat key, under MetalLB's names (`memberlist`, data key
 * `secretkey`) so a migration from MetalLB keeps its Secret. The controller creates it; the speakers read it
 * (speaker/cluster/heartbeat-key-watch.ts) and sign their heartbeats with it.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "../log.ts";
import { describeError, statusOf } from "./api-errors.ts";
import type { KubeApi } from "./client/kube-api.ts";
import { secrets } from "./client/resource-types.ts";
import { projectSecret, type SecretObject } from "./objects/secret.ts";

/** MetalLB's name for the Secret, in the speakers' namespace. */
export const memberlistSecretName = "memberlist";
/** MetalLB's data key whose value signs heartbeats. */
export const memberlistSecretKey = "secretkey";
/** The shortest key the speakers accept, in bytes. */
export const minMemberlistKeyBytes = 16;

/** Random bytes in a new key; stored as base64 text (88 bytes), like MetalLB's `openssl rand -base64`. */
const newKeyRandomBytes = 64;

export interface EnsureMemberlistSecretOptions {
  /** First and largest wait between attempts after an error; default 500 ms and 30 s. */
  backoffMs?: { initial: number; max: number };
}

/**
 * Makes sure Secret `namespace/name` exists, creating it with a new random `secretkey` when it does not. It
 * never changes an existing Secret (an operator's or MetalLB's key stays), only logs an error when that one
 * has no usable key. Safe on every controller replica at once: a 409 AlreadyExists means another replica
 * won. Other errors (the API down, RBAC missing) are logged and retried with capped backoff until it succeeds.
 *
 * The key is 64 random bytes written as base64 text: the speakers use the value's bytes as the key, and text
 * also works where MetalLB's speaker reads the same Secret into an environment variable.
 *
 * @example
 * void ensureMemberlistSecret(api, "metallb-system", memberlistSecretName, log);
 */
export async function ensureMemberlistSecret(
  api: KubeApi,
  namespace: string,
  name: string,
  log: Logger,
  opts: EnsureMemberlistSecretOptions = {},
): Promise<"created" | "exists"> {
  const { initial, max } = opts.backoffMs ?? { initial: 500, max: 30_000 };
  const secret = `${namespace}/${name}`;
  let delay = initial;
  for (;;) {
    try {
      const existing = await readIfPresent(api, namespace, name);
      if (existing) {
        checkExisting(existing, secret, log);
        return "exists";
      }
      await api.create({ ...secrets, namespace }, newSecret(name));
      log.info({ secret }, "created the heartbeat key Secret");
      return "created";
    } catch (err) {
      if (statusOf(err) === 409) {
        log.info({ secret }, "heartbeat key Secret already created by another replica");
        return "exists";
      }
      const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
      const fix = statusOf(err) === 403 ? { fix: `the controller needs get on secrets "${name}" and create on secrets in namespace ${namespace} (manifests/20-rbac.yaml)` } : {};
      log.warn({ secret, err: describeError(err), retryInMs: wait, ...fix }, "could not ensure the heartbeat key Secret, retrying");
      await new Promise((r) => setTimeout(r, wait));
      delay = Math.min(delay * 2, max);
    }
  }
}

async function readIfPresent(api: KubeApi, namespace: string, name: string): Promise<SecretObject | undefined> {
  try {
    return projectSecret(await api.get({ ...secrets, namespace, name }));
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

function newSecret(name: string): Record<string, unknown> {
  const key = randomBytes(newKeyRandomBytes).toString("base64");
  return {
    apiVersion: secrets.apiVersion,
    kind: "Secret",
    metadata: { name, labels: { "app.kubernetes.io/name": "baremetal-lb" } },
    type: "Opaque",
    data: { [memberlistSecretKey]: Buffer.from(key).toString("base64") },
  };
}

function checkExisting(existing: SecretObject, secret: string, log: Logger): void {
  const value = existing.data?.[memberlistSecretKey];
  const bytes = value === undefined ? undefined : Buffer.from(value, "base64").length;
  if (bytes !== undefined && bytes >= minMemberlistKeyBytes) return;
  const [namespace, name] = secret.split("/");
  log.error(
    {
      secret,
      problem: bytes === undefined ? `no data key "${memberlistSecretKey}"` : `"${memberlistSecretKey}" is ${bytes} bytes, under ${minMemberlistKeyBytes}`,
      fix: `kubectl -n ${namespace} create secret generic ${name} --from-literal=${memberlistSecretKey}="$(head -c 64 /dev/urandom | base64 -w0)" --dry-run=client -o yaml | kubectl apply -f -`,
    },
    "the heartbeat key Secret has no usable key: speakers send no heartbeats until it has one; the controller never overwrites it",
  );
}
