import { describe, expect, it } from "vitest";
import { connectionRetryDelay, isConnectionError, maxRetryAfterMs, parseRetryAfter, retryAfterWait } from "./retry-policy.ts";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-10-21T07:27:58Z");
  const cases: [string, string | undefined, number | undefined][] = [
    ["absent", undefined, undefined],
    ["delay-seconds", "1", 1000],
    ["zero", "0", 0],
    ["padded", " 3 ", 3000],
    ["an HTTP date 2 s ahead", "Wed, 21 Oct 2026 07:28:00 GMT", 2000],
    ["an HTTP date in the past", "Wed, 21 Oct 2026 07:00:00 GMT", 0],
    ["garbage", "soon", undefined],
    ["a negative number", "-1", undefined],
  ];
  for (const [name, header, want] of cases) it(name, () => expect(parseRetryAfter(header, now)).toBe(want));
});

describe("retryAfterWait", () => {
  const cases: [string, number, number | undefined, number, number | undefined][] = [
    ["429 with Retry-After", 429, 1000, 0, 1000],
    ["503 with Retry-After", 503, 2000, 3, 2000],
    ["500 with Retry-After", 500, 0, 0, 0],
    ["500 without Retry-After is final", 500, undefined, 0, undefined],
    ["409 with Retry-After is final", 409, 1000, 0, undefined],
    ["a long Retry-After is capped", 429, 120_000, 0, maxRetryAfterMs],
    ["the tenth retry is the last", 429, 1000, 9, 1000],
    ["no eleventh retry", 429, 1000, 10, undefined],
  ];
  for (const [name, status, after, retries, want] of cases) it(name, () => expect(retryAfterWait(status, after, retries)).toBe(want));
});

describe("connection retries", () => {
  it("recognises refused and reset connections", () => {
    expect(isConnectionError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error("x"), { code: "CERT_HAS_EXPIRED" }))).toBe(false);
    expect(isConnectionError(new Error("x"))).toBe(false);
    expect(isConnectionError(undefined)).toBe(false);
  });
  it("backs off 200, 400, 800 ms, then gives up", () => {
    expect([0, 1, 2, 3].map(connectionRetryDelay)).toEqual([200, 400, 800, undefined]);
  });
});
