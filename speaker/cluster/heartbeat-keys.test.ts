import { describe, expect, it } from "vitest";
import { heartbeatKeyOf } from "./heartbeat-message.ts";
import { HeartbeatKeyRing } from "./heartbeat-keys.ts";

const material = { A: Buffer.from("key-A-0123456789abcdef"), B: Buffer.from("key-B-0123456789abcdef"), C: Buffer.from("key-C-0123456789abcdef") };
type Name = keyof typeof material;
const nameOf = new Map(Object.entries(material).map(([name, m]) => [heartbeatKeyOf(m).idHex, name]));

/** A Secret's data: data key → key name. */
type Data = Record<string, Name>;
/** One moment: optionally a new Secret (or its deletion), then what keys() says. */
type Step = { at: number; secret?: Data | "deleted"; signs: Name | "nothing"; accepts: Name[] };

function toData(d: Data): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, material[v]]));
}

function run(steps: Step[]): { signs: string; accepts: string[] }[] {
  const ring = new HeartbeatKeyRing({ adoptionDelayMs: 10_000, graceMs: 60_000 });
  return steps.map((s) => {
    if (s.secret) ring.update(s.secret === "deleted" ? undefined : toData(s.secret), s.at);
    const keys = ring.keys(s.at);
    return {
      signs: keys ? nameOf.get(keys.signing.idHex)! : "nothing",
      accepts: keys ? [...keys.accepted.keys()].map((id) => nameOf.get(id)!).sort() : [],
    };
  });
}

describe("heartbeat key ring timeline (adoption delay 10 s, grace 60 s)", () => {
  it.each<[string, Step[]]>([
    ["no Secret yet: nothing to sign with, nothing accepted", [{ at: 0, signs: "nothing", accepts: [] }]],
    ["the first key signs at once (a start, or a fresh install)", [{ at: 0, secret: { secretkey: "A" }, signs: "A", accepts: ["A"] }]],
    [
      "a one-step edit of secretkey: B accepted at once, signs after 10 s; A accepted 60 s more",
      [
        { at: 0, secret: { secretkey: "A" }, signs: "A", accepts: ["A"] },
        { at: 100_000, secret: { secretkey: "B" }, signs: "A", accepts: ["A", "B"] },
        { at: 109_999, signs: "A", accepts: ["A", "B"] },
        { at: 110_000, signs: "B", accepts: ["A", "B"] },
        { at: 159_999, signs: "B", accepts: ["A", "B"] },
        { at: 160_000, signs: "B", accepts: ["B"] },
      ],
    ],
    [
      "a two-step rotation: B added beside A, later made secretkey, signs at once since it was held long enough",
      [
        { at: 0, secret: { secretkey: "A" }, signs: "A", accepts: ["A"] },
        { at: 100_000, secret: { secretkey: "A", next: "B" }, signs: "A", accepts: ["A", "B"] },
        { at: 200_000, secret: { secretkey: "B", previous: "A" }, signs: "B", accepts: ["A", "B"] },
        { at: 300_000, secret: { secretkey: "B" }, signs: "B", accepts: ["A", "B"] },
        { at: 360_000, signs: "B", accepts: ["B"] },
      ],
    ],
    [
      "a rotation made too early in two steps still waits out the delay from when B was first held",
      [
        { at: 0, secret: { secretkey: "A" }, signs: "A", accepts: ["A"] },
        { at: 100_000, secret: { secretkey: "A", next: "B" }, signs: "A", accepts: ["A", "B"] },
        { at: 104_000, secret: { secretkey: "B", previous: "A" }, signs: "A", accepts: ["A", "B"] },
        { at: 110_000, signs: "B", accepts: ["A", "B"] },
      ],
    ],
    [
      "an edit undone within the delay never signs with B",
      [
        { at: 0, secret: { secretkey: "A" }, signs: "A", accepts: ["A"] },
        { at: 100_000, secret: { secretkey: "B" }, signs: "A", accepts: ["A", "B"] },
        { at: 105_000, secret: { secretkey: "A" }, signs: "A", accepts: ["A", "B"] },
        { at: 115_000, signs: "A", accepts: ["A", "B"] },
        { at: 165_000, signs: "A", accepts: ["A"] },
      ],
    ],
    [
      "a removed key put back within its grace is held from when it was first seen",
      [
        { at: 0, secret: { secretkey: "A", old: "C" }, signs: "A", accepts: ["A", "C"] },
        { at: 100_000, secret: { secretkey: "A" }, signs: "A", accepts: ["A", "C"] },
        { at: 130_000, secret: { secretkey: "C" }, signs: "C", accepts: ["A", "C"] },
        { at: 190_000, signs: "C", accepts: ["C"] },
      ],
    ],
    [
      "two edits in a row: C replaces B before B signed; A keeps signing until C has been held 10 s",
      [
        { at: 0, secret: { secretkey: "A" }, signs: "A", accepts: ["A"] },
        { at: 100_000, secret: { secretkey: "B" }, signs: "A", accepts: ["A", "B"] },
        { at: 105_000, secret: { secretkey: "C" }, signs: "A", accepts: ["A", "B", "C"] },
        { at: 110_000, signs: "A", accepts: ["A", "B", "C"] },
        { at: 115_000, signs: "C", accepts: ["A", "B", "C"] },
        { at: 160_000, signs: "C", accepts: ["B", "C"] },
        { at: 165_000, signs: "C", accepts: ["C"] },
      ],
    ],
    [
      "the Secret deleted: the previous keys stay in force",
      [
        { at: 0, secret: { secretkey: "A", next: "B" }, signs: "A", accepts: ["A", "B"] },
        { at: 100_000, secret: "deleted", signs: "A", accepts: ["A", "B"] },
        { at: 900_000, signs: "A", accepts: ["A", "B"] },
      ],
    ],
  ])("%s", (_name, steps) => {
    expect(run(steps)).toEqual(steps.map((s) => ({ signs: s.signs, accepts: s.accepts })));
  });
});

describe("heartbeat keys refused, with the previous keys kept", () => {
  const ring = () => {
    const r = new HeartbeatKeyRing();
    r.update({ secretkey: material.A }, 0);
    return r;
  };

  it.each<[string, Record<string, Uint8Array> | undefined, string]>([
    ["a short secretkey", { secretkey: Buffer.from("short-key") }, 'data key "secretkey" is 9 bytes; heartbeat keys must be at least 16 bytes (make one with: head -c 64 /dev/urandom | base64 -w0)'],
    ["an empty secretkey", { secretkey: Buffer.alloc(0) }, 'data key "secretkey" is 0 bytes; heartbeat keys must be at least 16 bytes'],
    ["a short extra key beside a good secretkey", { secretkey: material.B, extra: Buffer.from("x") }, 'data key "extra" is 1 bytes'],
    ["a Secret without secretkey", { other: material.B }, 'it has no data key "secretkey" (the key that signs heartbeats)'],
    ["a deleted Secret", undefined, "the Secret does not exist"],
  ])("refuses %s", (_name, data, problem) => {
    const r = ring();
    const before = r.keys(1);
    const result = r.update(data, 1);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.join("\n")).toContain(problem);
    expect(r.keys(100_000)).toEqual(before);
    expect(r.keys(100_000)!.signing.secret).toEqual(material.A);
  });

  it("reports the key ids an update added and removed, and which key is meant to sign", () => {
    const r = ring();
    const [a, b] = [heartbeatKeyOf(material.A).idHex, heartbeatKeyOf(material.B).idHex];
    expect(r.update({ secretkey: material.B }, 5)).toEqual({ ok: true, added: [b], removed: [a], signing: b });
  });

  it("refuses a grace not longer than the adoption delay, which would silence nodes during a rotation", () => {
    expect(() => new HeartbeatKeyRing({ adoptionDelayMs: 10_000, graceMs: 10_000 })).toThrow(
      "heartbeat key grace (10000 ms) must be longer than the adoption delay (10000 ms), or a rotation silences nodes",
    );
  });
});
