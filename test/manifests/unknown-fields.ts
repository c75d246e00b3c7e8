/**
 * Finds fields a Kubernetes object does not have, the check `kubectl apply --validate=strict` asks the API server
 * for (`fieldValidation=Strict`). JSON-schema validators of the Kubernetes OpenAPI (kubernetes-models) accept
 * unknown fields, because the published schemas do not close their objects; so a misspelt
 * `readOnlyRootFileSystem` would pass them and be silently dropped by a real cluster. The field lists come from
 * the typed models of @kubernetes/client-node, generated from the same OpenAPI document.
 *
 * @example
 * unknownFields({ spec: { replica: 1 } }, "V1Deployment"); // ['.spec.replica: unknown field "replica" (V1DeploymentSpec)']
 */
import * as models from "@kubernetes/client-node";

interface AttributeType {
  baseName: string;
  type: string;
}

type Model = { getAttributeTypeMap(): AttributeType[] };

function modelOf(typeName: string): Model | undefined {
  const candidate = (models as unknown as Record<string, unknown>)[typeName];
  if (typeof candidate === "function" && typeof (candidate as Partial<Model>).getAttributeTypeMap === "function") return candidate as unknown as Model;
  return undefined;
}

/** Every path in `value` that its type (a client-node model name such as "V1DaemonSet") does not define. */
export function unknownFields(value: unknown, typeName: string, path = ""): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) {
    if (!Array.isArray(value)) return [];
    return value.flatMap((item, i) => unknownFields(item, array[1], `${path}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map) {
    if (typeof value !== "object") return [];
    return Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1], `${path}[${JSON.stringify(k)}]`));
  }
  const model = modelOf(typeName);
  if (!model || typeof value !== "object" || Array.isArray(value)) return []; // a scalar, IntOrString, Date or any
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  const problems: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const type = attributes.get(key);
    if (type === undefined) problems.push(`${path}.${key}: unknown field "${key}" (${typeName})`);
    else problems.push(...unknownFields(child, type, `${path}.${key}`));
  }
  return problems;
}
