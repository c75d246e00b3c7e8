import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { startKubeSim, type KubeSim } from "./index.ts";

/** A namespaced CRD with a status subresource, printer columns (one wide, one filtered) and a structural schema. */
const widgetCrd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: "Color", type: "string", jsonPath: ".spec.color" },
          { name: "Sizes", type: "string", jsonPath: ".spec.sizes" },
          { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: "Count", type: "integer", jsonPath: ".status.count", priority: 10 },
        ],
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: {
                type: "object",
                required: ["color"],
                properties: {
                  color: { type: "string" },
                  sizes: { type: "array", items: { type: "object", properties: { name: { type: "string" } } } },
                  extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                },
              },
              status: {
                type: "object",
                properties: {
                  count: { type: "integer", format: "int64" },
                  conditions: {
                    type: "array",
                    items: { type: "object", required: ["type", "status"], properties: { type: { type: "string" }, status: { type: "string" } } },
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["type"],
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

const clusterCrd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "gadgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Cluster",
    names: { plural: "gadgets", singular: "gadget", kind: "Gadget" },
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
  },
};

const widgets = "/apis/example.com/v1/namespaces/default/widgets";
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

function widget(name: string, spec: Record<string, unknown> = { color: "blue" }, labels?: Record<string, string>): Record<string, unknown> {
  return { apiVersion: "example.com/v1", kind: "Widget", metadata: { name, ...(labels ? { labels } : {}) }, spec };
}

interface Answer {
  status: number;
  json: any;
  headers: Headers;
}

let sim: KubeSim;
let auth: string;

async function req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(sim.url + path, {
    method,
    headers: { Authorization: auth, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, json, headers: res.headers };
}

/** Reads watch events until `count` arrived, then closes the stream. */
async function watchEvents(path: string, count: number, headers: Record<string, string> = {}): Promise<{ type: string; object: any }[]> {
  const controller = new AbortController();
  const res = await fetch(sim.url + path, { headers: { Authorization: auth, ...headers }, signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { type: string; object: any }[] = [];
  let buffer = "";
  const deadline = setTimeout(() => controller.abort(), 3000);
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        events.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
    }
  } finally {
    clearTimeout(deadline);
    controller.abort();
  }
  return events;
}

beforeAll(async () => {
  sim = await startKubeSim({ endpointsController: false });
  const kc = parseYaml(await readFile(sim.kubeconfigPath, "utf8")) as { users: { user: { token: string } }[] };
  auth = `Bearer ${kc.users[0].user.token}`;
  expect((await req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCrd)).status).toBe(201);
  expect((await req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", clusterCrd)).status).toBe(201);
});

afterAll(async () => {
  await sim?.stop();
});

describe("unknown fields of custom resources", () => {
  it("fieldValidation=Strict refuses them on create and update with apiserver's strict decoding error, listing every field sorted", async () => {
    const body = widget("strict", { color: "blue", colour: "red", sizes: [{ name: "s", nmae: "m" }] });
    (body.metadata as Record<string, unknown>).bogus = 1;
    const created = await req("POST", `${widgets}?fieldValidation=Strict`, body);
    expect(created.status).toBe(400);
    expect(created.json).toMatchObject({
      kind: "Status",
      reason: "BadRequest",
      code: 400,
      message: 'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "metadata.bogus", unknown field "spec.colour", unknown field "spec.sizes[0].nmae"',
    });

    expect((await req("POST", widgets, widget("strict"))).status).toBe(201);
    const replaced = await req("PUT", `${widgets}/strict?fieldValidation=Strict`, widget("strict", { color: "red", shade: "dark" }));
    expect(replaced.status).toBe(400);
    expect(replaced.json.message).toBe('Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.shade"');
    expect((await req("GET", `${widgets}/strict`)).json.spec).toEqual({ color: "blue" });
  });

  it("fieldValidation=Strict refuses them in a merge or JSON patch with 422 on the field patch, as apiserver's patch handler", async () => {
    expect((await req("POST", widgets, widget("patched"))).status).toBe(201);
    const merge = await req("PATCH", `${widgets}/patched?fieldValidation=Strict`, { spec: { colour: "red" } }, { "Content-Type": "application/merge-patch+json" });
    expect(merge.status).toBe(422);
    expect(merge.json.reason).toBe("Invalid");
    expect(merge.json.message).toMatch(/^ "" is invalid: patch: Invalid value: "\{\\"apiVersion\\":\\"example.com\/v1\\",.*\}": strict decoding error: unknown field "spec.colour"$/);
    expect(merge.json.details.causes).toEqual([{ reason: "FieldValueInvalid", field: "patch", message: expect.stringMatching(/strict decoding error: unknown field "spec.colour"$/) }]);

    const json = await req("PATCH", `${widgets}/patched?fieldValidation=Strict`, [{ op: "add", path: "/spec/shade", value: "x" }], { "Content-Type": "application/json-patch+json" });
    expect(json.status).toBe(422);
    expect(json.json.message).toMatch(/strict decoding error: unknown field "spec.shade"$/);
    expect((await req("GET", `${widgets}/patched`)).json.spec).toEqual({ color: "blue" });
  });

  it("fieldValidation=Warn, apiserver's default, drops them and says so in one Warning header per field", async () => {
    for (const query of ["?fieldValidation=Warn", ""]) {
      const name = `warned${query === "" ? "-default" : ""}`;
      const created = await req("POST", `${widgets}${query}`, widget(name, { color: "blue", colour: "red", shade: "dark" }));
      expect(created.status).toBe(201);
      expect(created.json.spec).toEqual({ color: "blue" });
      expect(created.headers.get("warning")).toBe('299 - "unknown field \\"spec.colour\\"", 299 - "unknown field \\"spec.shade\\""');
    }
    const patched = await req("PATCH", `${widgets}/warned`, { spec: { tint: 1 } }, { "Content-Type": "application/merge-patch+json" });
    expect(patched.status).toBe(200);
    expect(patched.headers.get("warning")).toBe('299 - "unknown field \\"spec.tint\\""');
  });

  it("fieldValidation=Ignore drops them silently", async () => {
    const created = await req("POST", `${widgets}?fieldValidation=Ignore`, widget("ignored", { color: "blue", colour: "red" }));
    expect(created.status).toBe(201);
    expect(created.json.spec).toEqual({ color: "blue" });
    expect(created.headers.get("warning")).toBeNull();
  });

  it("keeps fields under x-kubernetes-preserve-unknown-fields, even under Strict", async () => {
    const created = await req("POST", `${widgets}?fieldValidation=Strict`, widget("preserved", { color: "blue", extra: { anything: { goes: 1 } } }));
    expect(created.status).toBe(201);
    expect(created.json.spec.extra).toEqual({ anything: { goes: 1 } });
  });

  it("server-side apply refuses them whatever fieldValidation says, with structured-merge-diff's message", async () => {
    const body = JSON.stringify({ ...widget("applied", { color: "blue", colour: "red" }), metadata: { name: "applied", namespace: "default" } });
    for (const query of ["fieldValidation=Strict", "fieldValidation=Ignore"]) {
      const applied = await req("PATCH", `${widgets}/applied?fieldManager=test&${query}`, body, { "Content-Type": "application/apply-patch+yaml" });
      expect(applied.status).toBe(500);
      expect(applied.json.message).toBe("failed to create typed patch object (default/applied; example.com/v1, Kind=Widget): .spec.colour: field not declared in schema");
    }
  });
});

describe("the status subresource of custom resources", () => {
  it("drops status on create, changes only status through /status, and keeps status on main-resource writes", async () => {
    const created = await req("POST", widgets, { ...widget("st"), status: { count: 9 } });
    expect(created.json.status).toBeUndefined();
    expect(created.json.metadata.generation).toBe(1);

    const put = await req("PUT", `${widgets}/st/status`, { ...created.json, spec: { color: "green" }, status: { count: 2 } });
    expect(put.status).toBe(200);
    expect(put.json.spec).toEqual({ color: "blue" });
    expect(put.json.status).toEqual({ count: 2 });
    expect(put.json.metadata.generation).toBe(1);

    const patched = await req("PATCH", `${widgets}/st/status`, { spec: { color: "red" }, status: { conditions: [{ type: "Ready", status: "True" }] } }, { "Content-Type": "application/merge-patch+json" });
    expect(patched.json.spec).toEqual({ color: "blue" });
    expect(patched.json.status).toEqual({ count: 2, conditions: [{ type: "Ready", status: "True" }] });

    const main = await req("PATCH", `${widgets}/st`, { spec: { color: "red" }, status: { count: 100 } }, { "Content-Type": "application/merge-patch+json" });
    expect(main.json.spec).toEqual({ color: "red" });
    expect(main.json.status).toEqual({ count: 2, conditions: [{ type: "Ready", status: "True" }] });
    expect(main.json.metadata.generation).toBe(2);
  });

  it("validates status writes against the schema", async () => {
    await req("POST", widgets, widget("badstatus"));
    const bad = await req("PATCH", `${widgets}/badstatus/status`, { status: { count: "many" } }, { "Content-Type": "application/merge-patch+json" });
    expect(bad.status).toBe(422);
    expect(bad.json.details.causes).toEqual([{ reason: "FieldValueInvalid", field: "status.count", message: 'Invalid value: "string": status.count in body must be of type integer: "string"' }]);
  });
});

describe("Tables of custom resources", () => {
  it("print the CRD's columns for lists, single objects and watch events, the wide column marked by its priority", async () => {
    await req("POST", widgets, widget("tabled", { color: "teal", sizes: [{ name: "s" }, { name: "m" }] }));
    await req("PATCH", `${widgets}/tabled/status`, { status: { count: 3, conditions: [{ type: "Ready", status: "False" }] } }, { "Content-Type": "application/merge-patch+json" });

    const one = await req("GET", `${widgets}/tabled`, undefined, { Accept: tableAccept });
    expect(one.headers.get("content-type")).toBe("application/json;as=Table;v=v1;g=meta.k8s.io");
    expect(one.json.columnDefinitions.map((c: { name: string; priority: number }) => `${c.name}/${c.priority}`)).toEqual(["Name/0", "Color/0", "Sizes/0", "Ready/0", "Count/10"]);
    expect(one.json.rows[0].cells).toEqual(["tabled", "teal", '[{"name":"s"},{"name":"m"}]', "False", 3]);
    expect(one.json.rows[0].object.metadata.name).toBe("tabled");

    const list = await req("GET", `${widgets}?fieldSelector=metadata.name%3Dtabled`, undefined, { Accept: tableAccept });
    expect(list.json.rows.map((r: { cells: unknown[] }) => r.cells)).toEqual([["tabled", "teal", '[{"name":"s"},{"name":"m"}]', "False", 3]]);

    const [added] = await watchEvents(`${widgets}?watch=true&fieldSelector=metadata.name%3Dtabled`, 1, { Accept: tableAccept });
    expect(added.type).toBe("ADDED");
    expect(added.object.kind).toBe("Table");
    expect(added.object.rows[0].cells).toEqual(["tabled", "teal", '[{"name":"s"},{"name":"m"}]', "False", 3]);
  });
});

describe("selectors on custom resources", () => {
  it("filter lists and watches by label and by metadata.name / metadata.namespace", async () => {
    await req("POST", widgets, widget("sel-a", { color: "red" }, { tier: "front" }));
    await req("POST", widgets, widget("sel-b", { color: "red" }, { tier: "back" }));
    const names = (r: Answer) => r.json.items.map((i: { metadata: { name: string } }) => i.metadata.name);
    expect(names(await req("GET", `${widgets}?labelSelector=tier%3Dfront`))).toEqual(["sel-a"]);
    expect(names(await req("GET", `${widgets}?labelSelector=tier%20in%20(front,back)`))).toEqual(["sel-a", "sel-b"]);
    expect(names(await req("GET", `${widgets}?fieldSelector=metadata.name%3Dsel-b`))).toEqual(["sel-b"]);
    expect(names(await req("GET", `/apis/example.com/v1/widgets?fieldSelector=metadata.namespace%3Ddefault,metadata.name%3Dsel-a`))).toEqual(["sel-a"]);
    expect(names(await req("GET", `/apis/example.com/v1/widgets?fieldSelector=metadata.namespace%3Dother`))).toEqual([]);

    const events = await watchEvents(`${widgets}?watch=true&labelSelector=tier%3Dback`, 1);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED sel-b"]);
    const byName = await watchEvents(`${widgets}?watch=true&fieldSelector=metadata.name%3Dsel-a`, 1);
    expect(byName.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED sel-a"]);
  });

  it("refuses other field labels, and metadata.namespace for cluster-scoped custom resources", async () => {
    const bad = await req("GET", `${widgets}?fieldSelector=spec.color%3Dred`);
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe("field label not supported: spec.color");
    const gadget = await req("GET", "/apis/example.com/v1/gadgets?fieldSelector=metadata.namespace%3Ddefault");
    expect(gadget.status).toBe(400);
    expect(gadget.json.message).toBe("field label not supported: metadata.namespace");
    expect((await req("GET", "/apis/example.com/v1/gadgets?fieldSelector=metadata.name%3Dg")).status).toBe(200);
  });
});

describe("OpenAPI v3 of custom resources", () => {
  it("lists the CRD's group-version, with a fieldValidation PATCH per kind and the schema for kubectl explain", async () => {
    const root = await req("GET", "/openapi/v3");
    expect(root.json.paths["apis/example.com/v1"]).toEqual({ serverRelativeURL: "/openapi/v3/apis/example.com/v1" });
    const doc = (await req("GET", "/openapi/v3/apis/example.com/v1")).json;
    const patch = doc.paths["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"].patch;
    expect(patch.parameters).toContainEqual(expect.objectContaining({ name: "fieldValidation", in: "query" }));
    expect(patch["x-kubernetes-group-version-kind"]).toEqual({ group: "example.com", version: "v1", kind: "Widget" });
    expect(patch.requestBody).toBeUndefined();
    const schema = doc.components.schemas["com.example.v1.Widget"];
    expect(schema["x-kubernetes-group-version-kind"]).toEqual([{ group: "example.com", version: "v1", kind: "Widget" }]);
    expect(schema.properties.spec.required).toEqual(["color"]);
  });
});

describe("CustomResourceDefinition printer columns", () => {
  it("are refused without a name, with an unknown type or with a path that does not start with a dot", async () => {
    const bad = structuredClone(widgetCrd);
    bad.metadata.name = "things.example.com";
    Object.assign(bad.spec, { names: { plural: "things", singular: "thing", kind: "Thing" } });
    bad.spec.versions[0].additionalPrinterColumns = [
      { name: "", type: "string", jsonPath: ".spec.color" },
      { name: "Size", type: "text", jsonPath: "spec.size" },
    ];
    const answer = await req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", bad);
    expect(answer.status).toBe(422);
    expect(answer.json.details.causes.map((c: { field: string; message: string }) => `${c.field}: ${c.message}`)).toEqual([
      "spec.versions[0].additionalPrinterColumns[0].name: Required value",
      'spec.versions[0].additionalPrinterColumns[1].type: Unsupported value: "text": supported values: "boolean", "date", "integer", "number", "string"',
      'spec.versions[0].additionalPrinterColumns[1].JSONPath: Invalid value: "spec.size": must be a simple json path starting with .',
    ]);
  });
});
