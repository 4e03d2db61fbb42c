// Proves the shared wait helper fails inside bun's default 5 s test timeout and prints what it
// saw, so a failed wait in a process test is never a bare timeout (issue 14, item 16a).
import { expect, test } from "bun:test";
import { notYet, until } from "./support/proc.ts";

test("a wait that never succeeds fails within the default test timeout, naming what it saw", async () => {
  let polls = 0;
  const error = await until("a state that never comes", () => notYet({ polls: ++polls }))
    .then(() => undefined, (e: Error) => e);
  expect(error?.message).toMatch(
    /^timed out after \d+ ms waiting for a state that never comes: last seen: \{"polls":\d+\}$/,
  );
});

test("a value other than undefined ends the wait", async () => {
  let n = 0;
  expect(await until("the third poll", () => (++n === 3 ? n : undefined))).toBe(3);
});
