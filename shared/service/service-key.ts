/**
 * A Service's key, `namespace/name`, as both binaries write it (work queues, allocator, Events, ServiceL2Status
 * labels) and read it back.
 *
 * @example
 * serviceKey({ metadata: { namespace: "shop", name: "web" } }); // "shop/web"
 * splitServiceKey("shop/web"); // { namespace: "shop", name: "web" }
 * splitServiceKey("web"); // undefined
 */

/** The key of a Service: `namespace/name`; a missing namespace is `default`. */
export function serviceKey(service: { readonly metadata?: { readonly namespace?: string | null; readonly name?: string | null } | null }): string {
  return `${service.metadata?.namespace || "default"}/${service.metadata?.name ?? ""}`;
}

/** Splits `namespace/name`; undefined unless both parts are non-empty. */
export function splitServiceKey(key: string): { namespace: string; name: string } | undefined {
  const slash = key.indexOf("/");
  if (slash <= 0 || slash === key.length - 1) return undefined;
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
