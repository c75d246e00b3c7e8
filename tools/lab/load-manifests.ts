/**
 * Reads the install manifests the way `kubectl apply -f manifests/` does: every *.yaml, *.yml and *.json file
 * directly in manifests/ (not in subdirectories), in name order, each YAML document one object.
 *
 * @example
 * const objects = await loadManifests(installFiles());
 * objects.find((o) => o.kind === "DaemonSet");
 */
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

/** The repository's manifests/ directory. */
export const manifestsDir = new URL("../../manifests/", import.meta.url).pathname;

/** A Kubernetes object from a manifest, with the file it came from. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** The files `kubectl apply -f manifests/` applies, as paths, in the order it applies them. */
export function installFiles(): string[] {
  return readdirSync(manifestsDir, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ya?ml|json)$/.test(e.name))
    .map((e) => join(manifestsDir, e.name))
    .sort();
}

/** Every object in `files`, in order; throws naming the file and line of a YAML error or a document without kind. */
export async function loadManifests(files: readonly string[]): Promise<ManifestObject[]> {
  const objects: ManifestObject[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8");
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      const obj = value as Partial<ManifestObject>;
      if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string" || typeof obj.metadata?.name !== "string") {
        throw new Error(`${file}: a document lacks apiVersion, kind or metadata.name: ${JSON.stringify(value).slice(0, 200)}`);
      }
      objects.push(obj as ManifestObject);
    }
  }
  return objects;
}
