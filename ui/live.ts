/**
 * One WatchChanges stream for the page: `revision` moves whenever the server's state changed,
 * and views refetch then (see usePoll) instead of polling on a timer. The stream reconnects
 * with a growing pause when it breaks (server restart, proxy timeout).
 */
import { signal } from "@preact/signals";
import { jobs } from "./client.ts";

export const revision = signal("");
/** Whether the stream is up; views poll on their slow fallback timer otherwise. */
export const live = signal(false);

const retryMinMs = 1_000;
const retryMaxMs = 30_000;

export async function watchChangesForever(): Promise<never> {
  let retryMs = retryMinMs;
  for (;;) {
    try {
      for await (const m of jobs.watchChanges({})) {
        live.value = true;
        retryMs = retryMinMs;
        revision.value = String(m.revision);
      }
    } catch {
      // broken stream: reconnect below
    }
    live.value = false;
    await new Promise((r) => setTimeout(r, retryMs));
    retryMs = Math.min(retryMaxMs, retryMs * 2);
  }
}
