/**
 * Shared pieces: status badges, times, action errors that stay until dismissed, and a polling
 * hook that refetches while the tab is visible (the server answers unchanged data with 304).
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "./client.ts";
import { absoluteTime, executionStatus, jobStatus, relativeTime } from "./format.ts";
import { revision } from "./live.ts";

/** Ticks once a second, for relative times and elapsed counters. */
export const now = signal(Date.now());
setInterval(() => {
  now.value = Date.now();
}, 1_000);

export const msOf = (t: Timestamp | undefined): number | null =>
  t === undefined ? null : timestampMs(t);

export const localTime = (ms: number) => absoluteTime(ms, -new Date(ms).getTimezoneOffset());

export function JobBadge({ status }: { status: string }) {
  const st = jobStatus(status);
  return <span class={`badge ${st.tone}`}>{st.label}</span>;
}

export function ExecBadge({ status }: { status: string }) {
  const st = executionStatus({ status, success: status === "success", finished_at: "" });
  return <span class={`badge ${st.tone}`}>{st.label}</span>;
}

/** Relative time with the absolute local time on hover; "—" for none. */
export function When({ ms }: { ms: number | null }) {
  if (ms === null) return <span class="muted">—</span>;
  return <time title={localTime(ms)}>{relativeTime(ms, now.value)}</time>;
}

/** The last runs' results as small coloured cells, oldest first. */
export function Strip({ statuses }: { statuses: string[] }) {
  if (statuses.length === 0) return <span class="muted small">no runs</span>;
  return (
    <span class="strip" aria-label={`last runs: ${statuses.join(", ")}`}>
      {statuses.map((s, i) => (
        <i
          key={i}
          class={`cell ${executionStatus({ status: s, success: false, finished_at: "" }).tone}`}
          title={s}
        />
      ))}
    </span>
  );
}

export interface ActionError {
  id: number;
  message: string;
}

let nextErrorId = 1;

/**
 * Errors of actions taken in one place: each stays until its × is pressed. `act` runs an
 * action, records its failure here and resolves whether it succeeded.
 */
export function useActions() {
  const [errors, setErrors] = useState<ActionError[]>([]);
  const [busy, setBusy] = useState(0);
  const act = useCallback(async (what: () => Promise<unknown>): Promise<boolean> => {
    setBusy((n) => n + 1);
    try {
      await what();
      return true;
    } catch (e) {
      const error = { id: nextErrorId++, message: errorText(e) };
      setErrors((list) => [...list, error]);
      return false;
    } finally {
      setBusy((n) => n - 1);
    }
  }, []);
  const dismiss = useCallback((id: number) => setErrors((l) => l.filter((e) => e.id !== id)), []);
  return { errors, act, dismiss, busy: busy > 0 };
}

export function Errors(
  { errors, dismiss }: { errors: ActionError[]; dismiss: (id: number) => void },
) {
  if (errors.length === 0) return null;
  return (
    <div class="errors">
      {errors.map((e) => (
        <p key={e.id} class="error" role="alert">
          <span>{e.message}</span>
          <button type="button" class="dismiss" aria-label="Dismiss" onClick={() => dismiss(e.id)}>
            ×
          </button>
        </p>
      ))}
    </div>
  );
}

/**
 * Fetches with `load` now, whenever `key` changes, whenever the server's state changes (the
 * WatchChanges revision, unless `followChanges` is false), and every `fallbackMs` while the tab is visible (time-based figures,
 * or the stream being down). Loads never overlap: a change during a load runs one more after
 * it. A failed load keeps the last data and reports the error (cleared on success).
 */
export function usePoll<T>(
  load: () => Promise<T>,
  key: string,
  fallbackMs: number,
  followChanges = true,
) {
  const [got, setGot] = useState<{ key: string; value: T } | undefined>(undefined);
  const [error, setError] = useState("");
  const latest = useRef(load);
  latest.current = load;
  const keyRef = useRef(key);
  keyRef.current = key;
  const state = useRef({ running: false, again: false, alive: true });
  // A view whose data costs much to compute (the 24 h forecast) opts out of refetch-on-change.
  const rev = followChanges ? revision.value : "";
  const run = useCallback(async (): Promise<void> => {
    const s = state.current;
    if (s.running) {
      s.again = true;
      return;
    }
    s.running = true;
    const forKey = keyRef.current;
    try {
      const value = await latest.current();
      if (s.alive && forKey === keyRef.current) {
        setGot({ key: forKey, value });
        setError("");
      }
    } catch (e) {
      if (s.alive && forKey === keyRef.current) setError(errorText(e));
    } finally {
      s.running = false;
      if (s.again || forKey !== keyRef.current) {
        s.again = false;
        if (s.alive) void run();
      }
    }
  }, []);
  useEffect(() => {
    state.current.alive = true;
    return () => {
      state.current.alive = false;
    };
  }, []);
  useEffect(() => {
    void run();
  }, [key, rev]);
  useEffect(() => {
    if (fallbackMs <= 0) return;
    let timer = setInterval(() => void run(), fallbackMs);
    const onVisible = () => {
      clearInterval(timer);
      if (document.hidden) return;
      void run();
      timer = setInterval(() => void run(), fallbackMs);
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [fallbackMs]);
  // `data` may be of an older key (kept so a table does not blank while its next page loads);
  // `fresh` says it answers the current one.
  return { data: got?.value, fresh: got?.key === key, error, reload: run };
}

export function Section(
  { title, children, actions, id }: {
    title: ComponentChildren;
    children: ComponentChildren;
    actions?: ComponentChildren;
    id?: string;
  },
) {
  return (
    <section id={id}>
      <div class="bar">
        <h2>{title}</h2>
        <span class="spacer" />
        {actions}
      </div>
      {children}
    </section>
  );
}
