import { describe, expect, it } from "vitest";
import { ObjectCache } from "./object-cache.ts";

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion: string };
}
const obj = (name: string, resourceVersion: string, namespace?: string): Obj => ({ metadata: { name, namespace, resourceVersion } });
const summary = (changes: { obj: Obj; kind: string }[]) => changes.map((c) => `${c.kind} ${c.obj.metadata.namespace ?? ""}/${c.obj.metadata.name}@${c.obj.metadata.resourceVersion}`);

describe("ObjectCache", () => {
  it("keys objects by namespace and name", () => {
    const cache = new ObjectCache<Obj>();
    expect(cache.upsert(obj("web", "1", "a"))).toBe("add");
    expect(cache.upsert(obj("web", "2", "b"))).toBe("add");
    expect(cache.upsert(obj("node-1", "3"))).toBe("add");
    expect(cache.get("web", "a")?.metadata.resourceVersion).toBe("1");
    expect(cache.get("web", "b")?.metadata.resourceVersion).toBe("2");
    expect(cache.get("web")).toBeUndefined();
    expect(cache.get("node-1")?.metadata.resourceVersion).toBe("3");
    expect(cache.list("a").map((o) => o.metadata.name)).toEqual(["web"]);
    expect(cache.list().length).toBe(3);
    expect(cache.list("nope")).toEqual([]);
    expect(cache.list("").length).toBe(3);
    expect(cache.size).toBe(3);
  });

  it("reports an update only when the resourceVersion changed", () => {
    const cache = new ObjectCache<Obj>();
    cache.upsert(obj("web", "1", "a"));
    expect(cache.upsert(obj("web", "1", "a"))).toBeUndefined();
    expect(cache.upsert(obj("web", "2", "a"))).toBe("update");
    expect(cache.get("web", "a")?.metadata.resourceVersion).toBe("2");
  });

  it("removes objects and forgets empty namespaces", () => {
    const cache = new ObjectCache<Obj>();
    cache.upsert(obj("web", "1", "a"));
    expect(cache.remove(obj("web", "5", "a"))?.metadata.resourceVersion).toBe("1");
    expect(cache.remove(obj("web", "5", "a"))).toBeUndefined();
    expect(cache.list()).toEqual([]);
    expect(cache.size).toBe(0);
  });

  it("ignores objects without a name", () => {
    const cache = new ObjectCache<{ metadata?: { name?: string } }>();
    expect(cache.upsert({})).toBeUndefined();
    expect(cache.remove({ metadata: {} })).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  const relists: [string, Obj[], Obj[], string[]][] = [
    ["an empty cache gets adds", [], [obj("a", "1", "x"), obj("b", "2", "x")], ["add x/a@1", "add x/b@2"]],
    ["an unchanged list reports nothing", [obj("a", "1", "x")], [obj("a", "1", "x")], []],
    ["a changed object is an update", [obj("a", "1", "x")], [obj("a", "4", "x")], ["update x/a@4"]],
    ["a missing object is a delete with its last state", [obj("a", "1", "x"), obj("b", "2", "y")], [obj("a", "1", "x")], ["delete y/b@2"]],
    ["the same name in another namespace is another object", [obj("a", "1", "x")], [obj("a", "1", "y")], ["add y/a@1", "delete x/a@1"]],
    ["an empty list deletes everything", [obj("a", "1", "x"), obj("n", "2")], [], ["delete x/a@1", "delete /n@2"]],
  ];
  for (const [name, before, listed, want] of relists) {
    it(`relist: ${name}`, () => {
      const cache = new ObjectCache<Obj>();
      for (const o of before) cache.upsert(o);
      expect(summary(cache.replace(listed))).toEqual(want);
      expect(cache.list().map((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort()).toEqual(
        listed.map((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort(),
      );
    });
  }
});
