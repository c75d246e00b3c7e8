/**
 * The simulator CLI's `--issue-kubeconfig NAMESPACE:SERVICEACCOUNT=PATH`: which ServiceAccount identity to write a
 * kubeconfig for, and where. The kubeconfig authenticates as `system:serviceaccount:NAMESPACE:SERVICEACCOUNT` with
 * the groups kube-apiserver gives ServiceAccount tokens.
 *
 * @example
 * parseKubeconfigRequest("metallb-system:speaker=/tmp/speaker.kubeconfig");
 * // { path: "/tmp/speaker.kubeconfig", user: { name: "system:serviceaccount:metallb-system:speaker", groups: [...] } }
 */
import { serviceAccountGroups, type UserInfo } from "./identities.ts";

/** A kubeconfig to write for a ServiceAccount. */
export interface KubeconfigRequest {
  path: string;
  user: UserInfo;
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parses `NAMESPACE:SERVICEACCOUNT=PATH`; throws a message naming the flag and the expected form. */
export function parseKubeconfigRequest(text: string): KubeconfigRequest {
  const m = /^([^:=]+):([^=]+)=(.+)$/.exec(text);
  const form = "expected NAMESPACE:SERVICEACCOUNT=PATH, e.g. metallb-system:speaker=/tmp/speaker.kubeconfig";
  if (!m) throw new Error(`--issue-kubeconfig "${text}": ${form}`);
  const [, namespace, name, path] = m;
  if (!dns1123Label.test(namespace)) throw new Error(`--issue-kubeconfig "${text}": namespace "${namespace}" is not a valid namespace name; ${form}`);
  if (!dns1123Subdomain.test(name)) throw new Error(`--issue-kubeconfig "${text}": "${name}" is not a valid ServiceAccount name; ${form}`);
  return { path, user: { name: `system:serviceaccount:${namespace}:${name}`, groups: serviceAccountGroups(namespace) } };
}
