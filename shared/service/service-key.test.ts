import { describe, expect, it } from "vitest";
import { annotationNames, isMetallbAnnotation } from "./metallb-annotations.ts";
import { serviceKey, splitServiceKey } from "./service-key.ts";

describe("serviceKey / splitServiceKey", () => {
  it.each([
    ["namespace and name", { metadata: { namespace: "shop", name: "web" } }, "shop/web"],
    ["no namespace: default", { metadata: { name: "web" } }, "default/web"],
    ["an empty namespace: default", { metadata: { namespace: "", name: "web" } }, "default/web"],
  ])("%s", (_name, service, key) => {
    expect(serviceKey(service)).toBe(key);
    expect(splitServiceKey(key)).toEqual({ namespace: key.split("/")[0], name: "web" });
  });

  it.each(["web", "/web", "shop/", "", "\u0000config"])("refuses %j", (key) => {
    expect(splitServiceKey(key)).toBeUndefined();
  });
});

describe("MetalLB annotations", () => {
  it("names both spellings, legacy first", () => {
    expect(annotationNames("address-pool")).toEqual(["metallb.universe.tf/address-pool", "metallb.io/address-pool"]);
  });

  it.each([
    ["metallb.universe.tf/allow-shared-ip", true],
    ["metallb.io/loadBalancerIPs", true],
    ["baremetal-lb.io/x", false],
    ["example.com/metallb.io/x", false],
  ])("%s is MetalLB's: %s", (key, expected) => {
    expect(isMetallbAnnotation(key)).toBe(expected);
  });
});
