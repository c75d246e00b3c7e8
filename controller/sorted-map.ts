/**
 * The `sorted-btree` B+ tree class, loaded the same way under Node and under vitest.
 * The package is CommonJS with `exports.default = BTree`: Node's ESM loader hands the default
 * import over as `module.exports` (class on `.default`), vitest's loader as the class itself.
 */
import BTreeModule from "sorted-btree";

type BTreeClass = typeof BTreeModule.default;

/**
 * A sorted map (B+ tree) with O(log n) get/set/delete and ordered iteration.
 * @example const tree = new SortedMap<bigint, string>(undefined, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
 */
export const SortedMap: BTreeClass =
  (BTreeModule as { default?: BTreeClass }).default ?? (BTreeModule as unknown as BTreeClass);

/** An instance of {@link SortedMap}. */
export type SortedMap<K, V> = InstanceType<typeof BTreeModule.default<K, V>>;
