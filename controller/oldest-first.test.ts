import { describe, expect, it } from "vitest";
import { creationTime, oldestFirst } from "./oldest-first.ts";

describe("creationTime", () => {
  it.each<[string, string | undefined, number]>([
    ["the API server's whole-second RFC 3339", "2024-05-01T11:56:58Z", 1714564618000],
    ["fractional seconds", "2024-05-01T11:56:58.250Z", 1714564618250],
    ["an offset instead of Z: the same instant", "2024-05-01T13:56:58+02:00", 1714564618000],
    ["absent: first", undefined, 0],
    ["empty: first", "", 0],
    ["unparseable: first, instead of throwing", "yesterday-ish", 0],
  ])("%s", (_, timestamp, ms) => {
    expect(creationTime(timestamp)).toBe(ms);
  });
});

describe("oldestFirst", () => {
  const order = (services: [string, string | undefined][]) =>
    services
      .map(([service, timestamp]) => ({ service, createdAt: creationTime(timestamp) }))
      .sort(oldestFirst)
      .map((s) => s.service);

  it.each<[string, [string, string | undefined][], string[]]>([
    ["by creation time", [["default/new", "2024-05-01T12:00:01Z"], ["default/old", "2024-05-01T12:00:00Z"]], ["default/old", "default/new"]],
    [
      "by time as a number, not as text (an expanded year sorts after 2024, though '+' sorts before '2')",
      [["default/far", "+010000-01-01T00:00:00Z"], ["default/now", "2024-05-01T12:00:00Z"]],
      ["default/now", "default/far"],
    ],
    [
      "an offset timestamp by its instant, not its text",
      [["default/utc", "2024-05-01T12:00:00Z"], ["default/cest", "2024-05-01T13:56:58+02:00"]],
      ["default/cest", "default/utc"],
    ],
    [
      "same second: by key in code-unit order, on every host (upper case before lower case)",
      [["default/b", "2024-05-01T12:00:00Z"], ["default/B", "2024-05-01T12:00:00Z"], ["default/a", "2024-05-01T12:00:00Z"]],
      ["default/B", "default/a", "default/b"],
    ],
    [
      "without a usable timestamp: first, then by key",
      [["default/dated", "2024-05-01T12:00:00Z"], ["default/garbled", "not a time"], ["default/bare", undefined]],
      ["default/bare", "default/garbled", "default/dated"],
    ],
  ])("%s", (_, services, expected) => {
    expect(order(services)).toEqual(expected);
  });
});
