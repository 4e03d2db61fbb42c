import { expect, test } from "bun:test";
import type { RaftShell } from "../consensus/mod.ts";
import { AddressBook } from "./address_book.ts";
import { AppliedWaiters, RaftControl } from "./raft_ops.ts";
import { FakeClock } from "../lib/mod.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A leader "a" of voters a, b, c, d; b is the most caught up, c next, d last. */
function control(isLive: (id: string) => boolean = () => true): RaftControl {
  const status = {
    id: "a",
    role: "leader",
    config: { voters: ["a", "b", "c", "d"], learners: [] },
    progress: {
      a: { match: 100 },
      b: { match: 100 },
      c: { match: 90 },
      d: { match: 10 },
    },
  };
  const shell = { status: () => status, role: "leader" } as unknown as RaftShell;
  return new RaftControl({
    shell,
    addresses: new AddressBook(join(mkdtempSync(join(tmpdir(), "raft-ops-")), "a.json")),
    waiters: new AppliedWaiters(new FakeClock(0)),
    appliedIndex: () => 100,
    isLive,
  });
}

test("leadership is handed only to a live voter, the most caught up first", () => {
  expect(control().handOffTargets()).toEqual(["b", "c", "d"]);
  // b is dead (the most caught up, since it stopped at the last index): c takes over.
  expect(control((id) => id !== "b").handOffTargets()).toEqual(["c", "d"]);
});

test("a transfer with every other voter dead says so instead of picking one", async () => {
  await expect(control(() => false).transferLeadership(undefined, 1_000, new FakeClock(0)))
    .rejects.toThrow("no other voter is alive");
});
