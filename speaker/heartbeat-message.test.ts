import { describe, expect, it } from "vitest";
import { decodeHeartbeat, encodeHeartbeat } from "./heartbeat-message.ts";

describe("heartbeat messages", () => {
  it("round-trip", () => {
    const hb = { node: "node-1", identity: "node-1-ab12", seq: 42, leaving: true };
    expect(decodeHeartbeat(encodeHeartbeat(hb))).toEqual({ ok: true, heartbeat: hb });
  });

  it.each([
    ["empty datagram", Buffer.alloc(0), "bad-length"],
    ["oversized datagram", Buffer.alloc(600, 0x20), "bad-length"],
    ["garbage", Buffer.from([0xff, 0x00, 0x7b]), "not-json"],
    ["a JSON number", Buffer.from("5"), "not-an-object"],
    ["another version", Buffer.from('{"v":2,"node":"a","id":"x","seq":1,"leaving":false}'), "unsupported-version"],
    ["no node", Buffer.from('{"v":1,"id":"x","seq":1,"leaving":false}'), "missing-identity"],
    ["negative seq", Buffer.from('{"v":1,"node":"a","id":"x","seq":-1,"leaving":false}'), "bad-seq"],
    ["leaving as text", Buffer.from('{"v":1,"node":"a","id":"x","seq":1,"leaving":"no"}'), "bad-leaving"],
  ])("drops %s with a reason", (_name, buf, reason) => {
    expect(decodeHeartbeat(buf)).toEqual({ ok: false, reason });
  });
});
