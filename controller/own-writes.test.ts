import { describe, expect, it } from "vitest";
import { OwnWrites } from "./own-writes.ts";

const key = "default/web";

describe("OwnWrites: which Service events echo the controller's own writes", () => {
  it("skips both versions our two writes produced, arriving after the write ended", () => {
    const own = new OwnWrites();
    own.begin(key);
    expect(own.end(key, ["41", "42"])).toBe(false);
    expect(own.needsReconcile(key, "update", "41")).toBe(false);
    expect(own.needsReconcile(key, "update", "42")).toBe(false);
    // Nothing is remembered any more: the next change is someone else's.
    expect(own.needsReconcile(key, "update", "43")).toBe(true);
  });

  it("holds the versions heard while the write is in flight, and asks for nothing when they were ours", () => {
    const own = new OwnWrites();
    own.begin(key);
    expect(own.needsReconcile(key, "update", "41")).toBe(false);
    expect(own.end(key, ["41", "42"])).toBe(false);
    expect(own.needsReconcile(key, "update", "42")).toBe(false);
    expect(own.needsReconcile(key, "update", "43")).toBe(true);
  });

  it("asks for a reconcile when another writer's version was heard during the write", () => {
    const own = new OwnWrites();
    own.begin(key);
    expect(own.needsReconcile(key, "update", "41")).toBe(false);
    expect(own.end(key, [])).toBe(true); // our write conflicted: "41" was someone else's
  });

  it("asks for a reconcile when a version is heard after a failed write", () => {
    const own = new OwnWrites();
    own.begin(key);
    own.needsReconcile(key, "update", "41");
    expect(own.end(key, [])).toBe(true);
    expect(own.needsReconcile(key, "update", "42")).toBe(true);
  });

  it("never holds an add or a delete", () => {
    const own = new OwnWrites();
    own.begin(key);
    expect(own.needsReconcile(key, "delete", "41")).toBe(true);
    expect(own.needsReconcile(key, "add", "41")).toBe(true);
    own.end(key, ["40"]);
    expect(own.needsReconcile(key, "delete", "40")).toBe(true);
  });

  it("reconciles on a version that is not ours, and forgets the echoes still expected", () => {
    const own = new OwnWrites();
    own.begin(key);
    own.end(key, ["41", "42"]);
    expect(own.needsReconcile(key, "update", "50")).toBe(true); // a relist after a gap: only the latest version
    expect(own.needsReconcile(key, "update", "42")).toBe(true);
  });

  it("skips a later echo when the watch skipped an earlier one (a relist shows only the latest)", () => {
    const own = new OwnWrites();
    own.begin(key);
    own.end(key, ["41", "42"]);
    expect(own.needsReconcile(key, "update", "42")).toBe(false);
    expect(own.needsReconcile(key, "update", "41")).toBe(true);
  });

  it("drops earlier echoes when a new reconcile of the key begins", () => {
    const own = new OwnWrites();
    own.begin(key);
    own.end(key, ["41", "42"]);
    own.begin(key);
    own.end(key, []);
    expect(own.needsReconcile(key, "update", "41")).toBe(true);
  });

  it("keeps keys apart", () => {
    const own = new OwnWrites();
    own.begin(key);
    own.end(key, ["41"]);
    expect(own.needsReconcile("default/other", "update", "41")).toBe(true);
    expect(own.needsReconcile(key, "update", "41")).toBe(false);
  });
});
