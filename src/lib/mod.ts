/** lib: assertions, typed errors, limits and small pure helpers shared by every folder. */
export { assert, AssertionError, assertNever } from "./assert.ts";
export {
  conflict,
  type ErrorKind,
  errorMessage,
  invalid,
  isTockError,
  notFound,
  TockError,
} from "./errors.ts";
export * as limits from "./limits.ts";
export { Prng } from "./prng.ts";
export { formatGoDuration, parseGoDuration } from "./duration.ts";
export { parseNullableTime, parseRfc3339, rfc3339, zeroTime } from "./time.ts";
export { type Clock, FakeClock, systemClock, type TimerHandle } from "./clock.ts";
