import { describe, expect, it } from "vitest";
import { LineSplitter } from "./line-splitter.ts";

const bytes = (s: string) => Buffer.from(s, "utf8");

describe("LineSplitter", () => {
  it("returns each complete line of a chunk", () => {
    const s = new LineSplitter();
    expect(s.push(bytes('{"a":1}\n{"b":2}\n'))).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.pendingBytes).toBe(0);
    expect(s.end()).toEqual([]);
  });

  it("joins a line split across chunks", () => {
    const s = new LineSplitter();
    expect(s.push(bytes('{"type":"ADD'))).toEqual([]);
    expect(s.push(bytes('ED","x"'))).toEqual([]);
    expect(s.push(bytes(':1}\n{"n'))).toEqual(['{"type":"ADDED","x":1}']);
    expect(s.push(bytes('":2}\n'))).toEqual(['{"n":2}']);
  });

  it("decodes a multi-byte character split between chunks", () => {
    const line = bytes('{"name":"café ☕ 🚀"}\n');
    // Cut inside the 4-byte emoji and inside the 3-byte cup.
    const emoji = line.indexOf(0xf0);
    const cup = line.indexOf(0xe2);
    const s = new LineSplitter();
    const out = [
      ...s.push(line.subarray(0, cup + 1)),
      ...s.push(line.subarray(cup + 1, emoji + 2)),
      ...s.push(line.subarray(emoji + 2)),
    ];
    expect(out).toEqual(['{"name":"café ☕ 🚀"}']);
  });

  it("survives a stream fed one byte at a time", () => {
    const text = '{"a":"ü"}\n\n{"b":"日本"}\r\n{"c":3}';
    const s = new LineSplitter();
    const out: string[] = [];
    for (const b of bytes(text)) out.push(...s.push(Uint8Array.of(b)));
    out.push(...s.end());
    expect(out).toEqual(['{"a":"ü"}', '{"b":"日本"}', '{"c":3}']);
  });

  it("skips blank lines and strips carriage returns", () => {
    expect(new LineSplitter().push(bytes("\n\r\n x \r\n"))).toEqual(["x"]);
  });

  it("does not keep a reference to the caller's buffer", () => {
    const s = new LineSplitter();
    const chunk = bytes("abc");
    s.push(chunk);
    chunk.fill(0x7a);
    expect(s.end()).toEqual(["abc"]);
  });

  it("accepts plain Uint8Array views at an offset", () => {
    const backing = bytes('xx{"v":1}\nyy');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, backing.length - 4);
    expect(new LineSplitter().push(view)).toEqual(['{"v":1}']);
  });
});
