/**
 * Table columns of custom resources, as apiextensions-apiserver's table convertor builds them from a CRD
 * version's `additionalPrinterColumns`: a Name column, then one column per entry (name, type, format,
 * description, priority as declared). A cell is the first value the column's JSONPath selects; `string` columns
 * print arrays and objects as compact JSON (Go's encoding/json: sorted keys, `<>&` escaped) and scalars as text,
 * other types keep only a value of their type (`integer`, `number`, `boolean`) or turn a timestamp into an age
 * (`date`). No value, or one of the wrong type, is `null`, which kubectl prints as an empty cell. A version
 * without columns gets Name and Age.
 *
 * @example
 * const p = customResourcePrinter([{ name: "Addresses", type: "string", jsonPath: ".spec.addresses" }]);
 * p.cells(pool, Date.now()); // ["first-pool", '["192.168.10.0/24"]']
 */
import { ageSince } from "./human-duration.ts";
import { goJson } from "./json-value.ts";
import { findResults, parseJsonPath, type JsonPath } from "./jsonpath.ts";
import type { ColumnDefinition, Printer } from "./table-printers.ts";

/** One entry of a CRD version's `additionalPrinterColumns`. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

/** apiextensions' description of the Name column (ObjectMeta.name's). */
const nameDescription =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const ageDescription =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/** The columns a version without `additionalPrinterColumns` is served with. */
const defaultColumns: PrinterColumn[] = [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: ageDescription }];

/** A value printed the way jsonpath's PrintResults does for one result. */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") return goJson(value);
  return String(value);
}

function cell(type: string, value: unknown, now: number): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "string":
      return asText(value);
    case "integer":
      return typeof value === "number" ? Math.trunc(value) : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "date":
      if (typeof value !== "string") return null;
      return Number.isNaN(Date.parse(value)) ? "<invalid>" : ageSince(value, now);
    default:
      return null;
  }
}

/**
 * The Table printer of a custom resource version with these printer columns (Name and Age when there are none).
 *
 * @example
 * customResourcePrinter(undefined).columns.map((c) => c.name); // ["Name", "Age"]
 */
export function customResourcePrinter(columns: readonly PrinterColumn[] | undefined): Printer {
  const declared = columns && columns.length > 0 ? columns : defaultColumns;
  const compiled: { column: PrinterColumn; path: JsonPath | undefined }[] = declared.map((column) => {
    try {
      return { column, path: parseJsonPath(column.jsonPath) };
    } catch {
      return { column, path: undefined };
    }
  });
  const definitions: ColumnDefinition[] = [
    { name: "Name", type: "string", format: "name", description: nameDescription, priority: 0 },
    ...compiled.map(({ column }) => ({
      name: column.name,
      type: column.type as ColumnDefinition["type"],
      format: column.format ?? "",
      description: column.description || `Custom resource definition column (in JSONPath format): ${column.jsonPath}`,
      priority: column.priority ?? 0,
    })),
  ];
  return {
    columns: definitions,
    cells(obj, now) {
      return [
        obj.metadata.name,
        ...compiled.map(({ column, path }) => {
          if (!path) return null;
          const results = findResults(path, obj);
          return results.length === 0 ? null : cell(column.type, results[0], now);
        }),
      ];
    },
  };
}
