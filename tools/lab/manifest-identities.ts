import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { serviceAccountGroups, type UserInfo } from "../kube-sim/index.ts";

/** The ServiceAccount identities the install manifests give the controller and the speaker. */
export interface WorkloadIdentities {
  controller: UserInfo;
  speaker: UserInfo;
}

interface Workload {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: { template?: { spec?: { serviceAccountName?: string } } };
}

/**
 * Reads the controller Deployment and the speaker DaemonSet from the manifests in `dir` and returns the users their
 * Pods would authenticate as: `system:serviceaccount:<namespace>:<serviceAccountName>` with the ServiceAccount groups.
 *
 * @example
 * const ids = await workloadIdentities("manifests");
 * ids.speaker.name; // "system:serviceaccount:metallb-system:speaker"
 */
export async function workloadIdentities(dir: string): Promise<WorkloadIdentities> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml").sort();
  const workloads: Workload[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), "utf8"))) {
      const value = doc.toJS() as Workload | null;
      if (value && (value.kind === "Deployment" || value.kind === "DaemonSet")) workloads.push(value);
    }
  }
  const identity = (kind: "Deployment" | "DaemonSet", role: string): UserInfo => {
    const found = workloads.filter((w) => w.kind === kind);
    if (found.length !== 1) throw new Error(`${dir}: expected exactly one ${kind} (the ${role}), found ${found.length}`);
    const w = found[0];
    const namespace = w.metadata?.namespace;
    const sa = w.spec?.template?.spec?.serviceAccountName;
    if (!namespace || !sa) {
      throw new Error(`${dir}: the ${role} ${kind} "${w.metadata?.name ?? "?"}" needs metadata.namespace and spec.template.spec.serviceAccountName`);
    }
    return { name: `system:serviceaccount:${namespace}:${sa}`, groups: serviceAccountGroups(namespace) };
  };
  return { controller: identity("Deployment", "controller"), speaker: identity("DaemonSet", "speaker") };
}
