import { describe, expect, it } from "vitest";
import type { LabelSelector } from "./config-types.ts";
import { formatSelector, matchesAny, matchesSelector, readLabelSelector, readLabelSelectors } from "./label-selector.ts";

const at = "spec.nodeSelectors[0]";

describe("readLabelSelector accepts", () => {
  it.each<[string, unknown, LabelSelector]>([
    ["null, as everything", null, {}],
    ["an empty selector, as everything", {}, {}],
    ["matchLabels", { matchLabels: { zone: "a", "kubernetes.io/hostname": "node-1" } }, { matchLabels: { zone: "a", "kubernetes.io/hostname": "node-1" } }],
    ["an empty label value", { matchLabels: { edge: "" } }, { matchLabels: { edge: "" } }],
    ["In with values", { matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }, { matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }],
    ["Exists without values", { matchExpressions: [{ key: "gpu", operator: "Exists" }] }, { matchExpressions: [{ key: "gpu", operator: "Exists" }] }],
    ["DoesNotExist with an empty value list", { matchExpressions: [{ key: "gpu", operator: "DoesNotExist", values: [] }] }, { matchExpressions: [{ key: "gpu", operator: "DoesNotExist" }] }],
    ["null fields", { matchLabels: null, matchExpressions: null }, {}],
  ])("%s", (_name, raw, selector) => {
    expect(readLabelSelector(raw, at)).toEqual({ ok: true, selector });
  });
});

describe("readLabelSelector rejects", () => {
  it.each<[string, unknown, string[]]>([
    ["a string", "zone=a", [`${at}: must be a label selector ({matchLabels: {...}, matchExpressions: [...]}); got "zone=a"`]],
    ["an unknown field", { matchLabel: { zone: "a" } }, [`${at}: unknown field "matchLabel"; a label selector has matchLabels and matchExpressions`]],
    ["matchLabels as a list", { matchLabels: ["zone=a"] }, [`${at}.matchLabels: must be a map of label keys to values`]],
    ["a number as a label value", { matchLabels: { replicas: 3 } }, [`${at}.matchLabels.replicas: the value must be a string; quote it (e.g. "true")`]],
    [
      "a label value with a space",
      { matchLabels: { zone: "rack a" } },
      [`${at}.matchLabels.zone: label value "rack a" is invalid; a value is empty or at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`],
    ],
    [
      "a label key with an upper-case prefix",
      { matchLabels: { "Example.com/zone": "a" } },
      [`${at}.matchLabels: label key "Example.com/zone" has an invalid prefix; the prefix must be a lowercase DNS subdomain such as example.com`],
    ],
    [
      "a label key name of 64 characters",
      { matchLabels: { ["k".repeat(64)]: "a" } },
      [`${at}.matchLabels: label key "${"k".repeat(64)}" is invalid; a name is at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`],
    ],
    [
      "an operator in the wrong case",
      { matchExpressions: [{ key: "zone", operator: "in", values: ["a"] }] },
      [`${at}.matchExpressions[0]: operator "in" is not supported; use one of In, NotIn, Exists, DoesNotExist (case matters)`],
    ],
    ["In without values", { matchExpressions: [{ key: "zone", operator: "In" }] }, [`${at}.matchExpressions[0]: operator In needs at least one value`]],
    ["Exists with values", { matchExpressions: [{ key: "zone", operator: "Exists", values: ["a"] }] }, [`${at}.matchExpressions[0]: operator Exists takes no values; remove them`]],
    ["a missing key", { matchExpressions: [{ operator: "Exists" }] }, [`${at}.matchExpressions[0]: key is required`]],
    ["values that are not strings", { matchExpressions: [{ key: "n", operator: "In", values: [1] }] }, [`${at}.matchExpressions[0]: values must be a list of strings`]],
    ["an expression that is a string", { matchExpressions: ["zone in (a)"] }, [`${at}.matchExpressions[0]: must be {key, operator, values}`]],
    [
      "several problems at once",
      { matchLabels: { zone: 1 }, matchExpressions: [{ key: "", operator: "Is" }] },
      [
        `${at}.matchLabels.zone: the value must be a string; quote it (e.g. "true")`,
        `${at}.matchExpressions[0]: key is required; operator "Is" is not supported; use one of In, NotIn, Exists, DoesNotExist (case matters)`,
      ],
    ],
  ])("%s", (_name, raw, errors) => {
    expect(readLabelSelector(raw, at)).toEqual({ ok: false, errors });
  });
});

describe("readLabelSelectors", () => {
  it("reads a list, indexing each entry, and treats null as an empty list", () => {
    expect(readLabelSelectors(null, "spec.nodeSelectors")).toEqual({ ok: true, selectors: [] });
    expect(readLabelSelectors([{ matchLabels: { a: "1" } }, {}], "spec.nodeSelectors")).toEqual({ ok: true, selectors: [{ matchLabels: { a: "1" } }, {}] });
    expect(readLabelSelectors([{}, { matchLabels: { a: 1 } }], "spec.nodeSelectors")).toEqual({
      ok: false,
      errors: ['spec.nodeSelectors[1].matchLabels.a: the value must be a string; quote it (e.g. "true")'],
    });
    expect(readLabelSelectors({ matchLabels: {} }, "spec.nodeSelectors")).toEqual({ ok: false, errors: ["spec.nodeSelectors: must be a list of label selectors"] });
  });
});

describe("matchesSelector, as apimachinery's LabelSelectorAsSelector", () => {
  const zoneA = { zone: "a", gpu: "true" };
  it.each<[string, LabelSelector, Record<string, string> | undefined, boolean]>([
    ["the empty selector matches anything", {}, zoneA, true],
    ["the empty selector matches no labels", {}, undefined, true],
    ["matchLabels: every pair must hold", { matchLabels: { zone: "a", gpu: "true" } }, zoneA, true],
    ["matchLabels: one pair differing fails", { matchLabels: { zone: "a", gpu: "false" } }, zoneA, false],
    ["matchLabels: a missing label fails", { matchLabels: { rack: "1" } }, zoneA, false],
    ["In: the value is listed", { matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }, zoneA, true],
    ["In: an absent label fails", { matchExpressions: [{ key: "rack", operator: "In", values: ["1"] }] }, zoneA, false],
    ["NotIn: the value is listed", { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, zoneA, false],
    ["NotIn: an absent label passes", { matchExpressions: [{ key: "rack", operator: "NotIn", values: ["1"] }] }, zoneA, true],
    ["Exists", { matchExpressions: [{ key: "gpu", operator: "Exists" }] }, zoneA, true],
    ["Exists on an empty value", { matchExpressions: [{ key: "edge", operator: "Exists" }] }, { edge: "" }, true],
    ["DoesNotExist", { matchExpressions: [{ key: "gpu", operator: "DoesNotExist" }] }, zoneA, false],
    ["labels and expressions must all hold", { matchLabels: { zone: "a" }, matchExpressions: [{ key: "gpu", operator: "DoesNotExist" }] }, zoneA, false],
    ["a label named like an Object method is not inherited", { matchExpressions: [{ key: "toString", operator: "Exists" }] }, {}, false],
  ])("%s", (_name, selector, labels, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });

  it("matchesAny: any selector of the list; an empty list matches nothing", () => {
    expect(matchesAny([{ matchLabels: { zone: "b" } }, { matchLabels: { zone: "a" } }], { zone: "a" })).toBe(true);
    expect(matchesAny([{ matchLabels: { zone: "b" } }], { zone: "a" })).toBe(false);
    expect(matchesAny([], { zone: "a" })).toBe(false);
  });
});

describe("formatSelector, in kubectl's text form", () => {
  it.each<[LabelSelector, string]>([
    [{}, "<everything>"],
    [{ matchLabels: { zone: "a", tier: "gold" } }, "zone=a,tier=gold"],
    [
      {
        matchExpressions: [
          { key: "tier", operator: "In", values: ["gold", "silver"] },
          { key: "env", operator: "NotIn", values: ["dev"] },
          { key: "gpu", operator: "Exists" },
          { key: "legacy", operator: "DoesNotExist" },
        ],
      },
      "tier in (gold,silver),env notin (dev),gpu,!legacy",
    ],
  ])("%j as %s", (selector, text) => {
    expect(formatSelector(selector)).toBe(text);
  });
});
