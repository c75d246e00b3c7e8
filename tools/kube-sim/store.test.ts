import { describe, expect, it } from "vitest";
import type { KubeObject } from "./resources.ts";
import { Store } from "./store.ts";

function put(store: Store, type: "ADDED" | "MODIFIED" | "DELETED", name: string, data = ""): number {
  const rv = store.nextResourceVersion();
  const obj: KubeObject = { metadata: { name, namespace: "ns", resourceVersion: String(rv) }, data };
  store.commit(type, "/configmaps", obj, rv);
  return rv;
}

describe("Store", () => {
  it("gives every write the next resourceVersion and keeps the latest object", () => {
    const s = new Store();
    const a = put(s, "ADDED", "a", "1");
    const b = put(s, "MODIFIED", "a", "2");
    expect(b).toBe(a + 1);
    expect(s.get("/configmaps", "ns", "a")?.object.data).toBe("2");
    put(s, "DELETED", "a", "2");
    expect(s.get("/configmaps", "ns", "a")).toBeUndefined();
    expect(s.count("/configmaps")).toBe(0);
  });

  it("replays events after a resourceVersion, per resource", () => {
    const s = new Store();
    const a = put(s, "ADDED", "a");
    const rv = s.nextResourceVersion();
    s.commit("ADDED", "/secrets", { metadata: { name: "x", namespace: "ns", resourceVersion: String(rv) } }, rv);
    put(s, "MODIFIED", "a");
    expect(s.eventsSince(a, "/configmaps")!.map((e) => e.type)).toEqual(["MODIFIED"]);
    expect(s.eventsSince(0)!.map((e) => e.resource)).toEqual(["/configmaps", "/secrets", "/configmaps"]);
  });

  it("forgets the oldest events beyond its size and answers undefined for resourceVersions before them", () => {
    const s = new Store(3);
    const rvs = ["a", "b", "c", "d", "e"].map((n) => put(s, "ADDED", n));
    expect(s.compactedResourceVersion).toBe(rvs[1]);
    expect(s.eventsSince(rvs[0])).toBeUndefined();
    expect(s.eventsSince(rvs[1])!.map((e) => e.name)).toEqual(["c", "d", "e"]);
  });

  it("compacts all history on demand", () => {
    const s = new Store();
    const a = put(s, "ADDED", "a");
    const b = put(s, "ADDED", "b");
    s.compact();
    expect(s.eventsSince(a)).toBeUndefined();
    expect(s.eventsSince(b)).toEqual([]);
  });

  it("reconstructs the state at an earlier resourceVersion", () => {
    const s = new Store();
    put(s, "ADDED", "a", "1");
    const at = put(s, "ADDED", "b", "1");
    put(s, "MODIFIED", "a", "2");
    put(s, "DELETED", "b", "1");
    put(s, "ADDED", "c", "1");
    const snap = s.snapshotAt("/configmaps", at)!.map((o) => `${o.object.metadata.name}=${o.object.data as string}`).sort();
    expect(snap).toEqual(["a=1", "b=1"]);
  });

  it("encodes an event line once and shares it", () => {
    const s = new Store();
    const rv = s.nextResourceVersion();
    const e = s.commit("ADDED", "/configmaps", { metadata: { name: "a", resourceVersion: String(rv) } }, rv);
    expect(e.line).toBe(e.line);
    expect(JSON.parse(e.line.toString())).toEqual({ type: "ADDED", object: { metadata: { name: "a", resourceVersion: String(rv) } } });
  });
});
