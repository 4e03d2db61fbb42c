/** Thrown when a programmer invariant breaks. Never caught to continue: the process should crash. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Assertions stay on in production: a broken invariant must stop the node, not corrupt state. */
export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new AssertionError(message);
}

/** Exhaustiveness check for tagged unions: an unknown tag is an error, never a silent no-op. */
export function assertNever(value: never, what = "value"): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
