/**
 * Kubernetes strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch, as the apiserver applies it:
 * MergeParallelList and IgnoreUnmatchedNulls on). Maps merge recursively and `null` deletes a key; lists with a
 * `merge` strategy merge element by element on their merge key (or as a set of primitives); other lists are
 * replaced. Directives: `$patch: replace|delete` on maps and list elements, `$retainKeys`,
 * `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`. Order follows apimachinery: items named by the
 * patch come in patch order, interleaved with the server-only items in their live order.
 *
 * One deliberate difference: values the patch adds where the original had none are normalised too (directives
 * and nulls inside them are applied, not stored).
 *
 * @example
 * strategicMergePatch(svc, { spec: { ports: [{ $patch: "delete", port: 443 }] } }, "Service");
 * // svc with the 443 port removed and every other port kept
 */
import { isPlainObject, jsonClone } from "./json-value.ts";
import { patchRootOf, patchStrategies, type PatchField } from "./patch-strategies.ts";
import type { KubeObject } from "./resources.ts";

type Json = Record<string, unknown>;
type Fields = Readonly<Record<string, PatchField>> | undefined;

const DIRECTIVE = "$patch";
const RETAIN_KEYS = "$retainKeys";
const SET_ELEMENT_ORDER = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/";

function fieldsOf(field: PatchField | undefined): Fields {
  return field?.type === undefined ? undefined : patchStrategies[field.type];
}

function fail(message: string): never {
  throw new Error(message);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** "map", "list" or "scalar": values of different shapes replace each other instead of merging. */
function shapeOf(value: unknown): "map" | "list" | "scalar" {
  return isPlainObject(value) ? "map" : Array.isArray(value) ? "list" : "scalar";
}

/** A value taken from the patch where the original has none, with its directives applied. */
function fromPatch(value: unknown, field: PatchField | undefined): unknown {
  if (isPlainObject(value)) return mergeMap({}, value, fieldsOf(field));
  if (Array.isArray(value)) {
    if (field?.strategy === "merge") return mergeList([], value, field);
    return value.map((item) => (isPlainObject(item) ? mergeMap({}, item, fieldsOf(field)) : item));
  }
  return value;
}

function mergeMap(original: Json, patch: Json, fields: Fields): Json {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === "delete") return {};
    if (directive === "replace") {
      const { [DIRECTIVE]: _, ...rest } = patch;
      return mergeMap({}, rest, fields);
    }
    fail(`unknown $patch directive ${show(directive)} in ${show(patch)}: use "replace" or "delete"`);
  }
  applyRetainKeys(original, patch);
  applySetElementOrder(original, patch, fields);
  for (const [rawKey, value] of Object.entries(patch)) {
    let key = rawKey;
    let deleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = rawKey.slice(DELETE_FROM_PRIMITIVE_LIST.length);
      deleteList = true;
      if (!Array.isArray(value)) fail(`${rawKey} must be a list of the values to delete, not ${show(value)}`);
    } else if (rawKey.startsWith("$")) {
      fail(`unknown strategic merge patch directive "${rawKey}"`);
    }
    const field = fields?.[key];
    if (deleteList) {
      const current = original[key];
      if (Array.isArray(current)) original[key] = current.filter((item) => !(value as unknown[]).includes(item));
      continue;
    }
    if (value === null) {
      delete original[key];
      continue;
    }
    if (!Object.hasOwn(original, key)) {
      original[key] = fromPatch(value, field);
      continue;
    }
    const current = original[key];
    if (shapeOf(current) !== shapeOf(value)) {
      original[key] = fromPatch(value, field);
    } else if (isPlainObject(current) && isPlainObject(value)) {
      original[key] = field?.strategy === "replace" ? fromPatch(value, field) : mergeMap(current, value, fieldsOf(field));
    } else if (Array.isArray(current) && Array.isArray(value)) {
      original[key] = field?.strategy === "merge" ? mergeList(current, value, field) : fromPatch(value, field);
    } else {
      original[key] = value;
    }
  }
  return original;
}

/** `$retainKeys`: drop the original's keys that the list does not name (the patch may only set named keys). */
function applyRetainKeys(original: Json, patch: Json): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) fail(`$retainKeys must be a list of field names, not ${show(retain)}`);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!retain.includes(key)) fail(`$retainKeys ${show(retain)} must name every field the patch sets, but not "${key}"`);
  }
  for (const key of Object.keys(original)) if (!retain.includes(key)) delete original[key];
}

/** `$setElementOrder/<list>`: merge that list now and put its items in the given order. */
function applySetElementOrder(original: Json, patch: Json, fields: Fields): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    const key = directiveKey.slice(SET_ELEMENT_ORDER.length);
    if (key === "") fail(`${directiveKey} does not name a list`);
    if (!Array.isArray(order)) fail(`${directiveKey} must be a list, not ${show(order)}`);
    const current = original[key];
    const patchList = patch[key];
    if (patchList === null) continue; // the list is deleted below; there is nothing to order
    if (current !== undefined && !Array.isArray(current)) fail(`${directiveKey}: the original "${key}" is not a list`);
    if (patchList !== undefined && !Array.isArray(patchList)) fail(`${directiveKey}: the patch's "${key}" is not a list`);
    const field = fields?.[key];
    const mergeKey = field?.mergeKey ?? "";
    const patchItems = Array.isArray(patchList) ? patchList : undefined;
    checkOrderCoversPatch(patchItems ?? [], order, mergeKey, key);
    let merged: unknown[];
    if (current !== undefined && patchItems !== undefined) {
      merged = field?.strategy === "merge" ? mergeList(current, patchItems, field) : (fromPatch(patchItems, field) as unknown[]);
    } else if (patchItems !== undefined) {
      merged = fromPatch(patchItems, field) as unknown[];
    } else if (current !== undefined) {
      merged = current;
    } else {
      continue;
    }
    const maps = merged.some(isPlainObject);
    if (!maps || mergeKey !== "") {
      const [inOrder, serverOnly] = partition(merged, order, mergeKey);
      merged = normalizeOrder(inOrder, serverOnly, order, current ?? [], mergeKey);
    }
    original[key] = merged;
    delete patch[key];
  }
}

/** The merge-key value of a list item (the item itself for primitives). */
function keyOf(item: unknown, mergeKey: string): unknown {
  return mergeKey === "" ? item : isPlainObject(item) ? item[mergeKey] : undefined;
}

function indexIn(list: readonly unknown[], item: unknown, mergeKey: string): number {
  const wanted = keyOf(item, mergeKey);
  return list.findIndex((x) => keyOf(x, mergeKey) === wanted);
}

function isDeleteItem(item: unknown): boolean {
  return isPlainObject(item) && item[DIRECTIVE] === "delete";
}

/** validatePatchWithSetOrderList: the patch list's items must appear in the order list, in the same order. */
function checkOrderCoversPatch(patchList: unknown[], order: unknown[], mergeKey: string, key: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey === "" ? patchList : patchList.filter((item) => !isDeleteItem(item));
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    if (isPlainObject(items[p]) && Object.hasOwn(items[p] as Json, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKey !== "") {
      for (const item of [items[p], order[o]]) {
        if (!isPlainObject(item) || !Object.hasOwn(item, mergeKey)) fail(`list "${key}": ${show(item)} has no merge key "${mergeKey}"`);
      }
    }
    if (keyOf(items[p], mergeKey) === keyOf(order[o], mergeKey)) p++;
    o++;
  }
  if (p < items.length) {
    fail(`the order in patch list "${key}" ${show(patchList)} doesn't match $setElementOrder list ${show(order)}`);
  }
}

/** Splits `list` into the items present in `by` and the rest, keeping their relative order. */
function partition(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const present: unknown[] = [];
  const rest: unknown[] = [];
  for (const item of list) (indexIn(by, item, mergeKey) >= 0 ? present : rest).push(item);
  return [present, rest];
}

/** Sorts `items` by their position in `order` (stable; unlisted items keep their place; deletions go last). */
function sortByOrder(items: unknown[], order: unknown[], mergeKey: string): unknown[] {
  const kept = items.filter((item) => !isDeleteItem(item));
  const deletions = items.filter(isDeleteItem);
  const positioned = kept.map((item, i) => ({ item, i, at: indexIn(order, item, mergeKey) }));
  const listed = positioned.filter((x) => x.at >= 0).sort((a, b) => a.at - b.at);
  const slots = positioned.map((x) => (x.at >= 0 ? listed.shift()!.item : x.item));
  return [...slots, ...deletions];
}

/**
 * normalizeElementOrder: patch items in patch order, server-only items in live order, merged so that a
 * server-only item goes before a patch item only when both are in the live list and it came first there.
 */
function normalizeOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string): unknown[] {
  const right = sortByOrder(patchItems, patchOrder, mergeKey);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Merges a list whose strategy is `merge`: by merge key for maps, as a set for primitives. */
function mergeList(original: unknown[], patch: unknown[], field: PatchField): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const shapes = new Set([...original, ...patch].map(shapeOf));
  if (shapes.has("list")) fail(`lists of lists cannot be merged: ${show(patch)}`);
  if (shapes.size > 1) fail(`list element types are not identical: ${show(original)} and ${show(patch)}`);
  const mergeKey = field.mergeKey ?? "";
  let merged: unknown[];
  let patchItems = patch;
  let base = original;
  if (!shapes.has("map")) {
    merged = [...new Set([...original, ...patch])];
  } else {
    if (mergeKey === "") fail(`cannot merge list ${show(patch)}: it has no merge key`);
    const directed = applyListDirectives(original, patch, mergeKey);
    base = directed.replaced ? directed.base.map((item) => mergeMap({}, item as Json, fieldsOf(field))) : directed.base;
    patchItems = directed.items;
    merged = [...base];
    for (const item of patchItems) {
      const patchMap = item as Json;
      if (!Object.hasOwn(patchMap, mergeKey)) fail(`list item ${show(item)} has no merge key "${mergeKey}"`);
      const at = merged.findIndex((x) => isPlainObject(x) && Object.hasOwn(x, mergeKey) && x[mergeKey] === patchMap[mergeKey]);
      if (at >= 0) merged[at] = mergeMap(merged[at] as Json, patchMap, fieldsOf(field));
      else merged.push(mergeMap({}, patchMap, fieldsOf(field)));
    }
  }
  const [inPatch, serverOnly] = partition(merged, patchItems, mergeKey);
  return normalizeOrder(inPatch, serverOnly, patchItems, base, mergeKey);
}

/** `$patch: delete` items remove their match from the original; `$patch: replace` makes the rest the whole list. */
function applyListDirectives(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
): { base: unknown[]; items: unknown[]; replaced: boolean } {
  let base = original;
  const plain: unknown[] = [];
  let replace = false;
  for (const item of patch) {
    const map = item as Json;
    if (!Object.hasOwn(map, DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    const directive = map[DIRECTIVE];
    if (directive === "delete") {
      if (!Object.hasOwn(map, mergeKey)) fail(`$patch: delete item ${show(item)} has no merge key "${mergeKey}"`);
      base = base.filter((x) => !(isPlainObject(x) && x[mergeKey] === map[mergeKey]));
    } else if (directive === "replace") {
      replace = true;
    } else if (directive === "merge") {
      fail(`$patch: merge is not supported inside lists: ${show(item)}`);
    } else {
      fail(`unknown $patch directive ${show(directive)} in list item ${show(item)}`);
    }
  }
  return replace ? { base: plain, items: [], replaced: true } : { base, items: plain, replaced: false };
}

/**
 * Applies a strategic merge patch to `original` (not modified) for a built-in `kind`; kinds without strategic
 * metadata merge maps and replace lists. Throws an Error that names the offending directive or list item when the
 * patch is malformed.
 *
 * @example
 * strategicMergePatch(deploy, { spec: { template: { spec: { containers: [{ name: "app", image: "app:2" }] } } } }, "Deployment");
 * // only the "app" container's image changes
 */
export function strategicMergePatch(original: KubeObject, patch: unknown, kind: string): KubeObject {
  if (!isPlainObject(patch)) fail(`a strategic merge patch must be a JSON object, not ${show(patch)}`);
  const result = mergeMap(jsonClone(original) as Json, jsonClone(patch), patchStrategies[patchRootOf(kind)]);
  if (!isPlainObject(result.metadata)) result.metadata = {};
  return result as KubeObject;
}
