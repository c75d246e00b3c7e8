/**
 * An IP address as a value: its family and its number. address.ts reads and prints the text, bytes.ts the bytes
 * packets carry; both take and give these.
 */

/** IP family: 4 or 6. */
export type IpFamily = 4 | 6;

/** An IP address as a number: `{ family: 4, value: 167772161n }` is 10.0.0.1. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}
