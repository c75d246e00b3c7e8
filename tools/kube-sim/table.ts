/**
 * Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`. Without it kubectl falls back to NAME and AGE.
 *
 * @example
 * if (wantsTable(req.headers.accept)) {
 *   res.setHeader("content-type", TABLE_CONTENT_TYPE);
 *   res.end(JSON.stringify(toTable(servicesType, services, "42")));
 * }
 */
import { customResourcePrinter } from "./custom-resource-printer.ts";
import type { KubeObject, ResourceType } from "./resources.ts";
import { printerFor } from "./table-printers.ts";

/** Content-Type of a Table answer. */
export const TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io";

/**
 * True when the Accept header lists a meta.k8s.io/v1 Table (`as=Table;g=meta.k8s.io;v=v1`, parameters in any order).
 *
 * @example
 * wantsTable("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"); // true
 * wantsTable("application/json"); // false
 */
export function wantsTable(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(",").some((mediaType) => {
    const params = new Map<string, string>();
    for (const part of mediaType.split(";").slice(1)) {
      const eq = part.indexOf("=");
      if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
    }
    return params.get("as") === "Table" && params.get("g") === "meta.k8s.io" && params.get("v") === "v1";
  });
}

/**
 * A meta.k8s.io/v1 Table of `objects` (all of kind `resource.kind`): columnDefinitions, and per object the cells
 * and a PartialObjectMetadata with the full metadata (kubectl needs it for NAMESPACE with -A and --show-labels).
 * Custom resources get their CRD's printer columns.
 * `now` (ms since the epoch) is when ages are measured.
 *
 * @example
 * toTable(servicesType, [svc], "17").rows[0].cells; // ["web", "LoadBalancer", "10.96.0.10", "<pending>", "80:31234/TCP", "3s", "app=web"]
 */
export function toTable(resource: ResourceType, objects: KubeObject[], resourceVersion: string, now: number = Date.now()): object {
  const printer = resource.custom ? customResourcePrinter(resource.printerColumns) : printerFor(resource.kind);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: printer.columns,
    rows: objects.map((o) => ({
      cells: printer.cells(o, now),
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}
