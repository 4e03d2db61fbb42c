/**
 * One execution with its output streamed live over WatchExecution. Output is appended to the
 * DOM as text nodes, outside Preact's rendering, so nothing already shown is rebuilt: the
 * reader's scroll position and text selection survive every chunk. "Follow" keeps the view at
 * the end; scrolling up turns it off, scrolling back to the end turns it on.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Execution } from "../../src/gen/tock/v1/job_pb.ts";
import { errorText, jobs } from "../client.ts";
import { Errors, ExecBadge, msOf, now, useActions, When } from "../components.tsx";
import { durationText, formatBytes } from "../format.ts";
import { href, navigate } from "../router.ts";

/** Pixels from the bottom that still count as "at the end" (sub-pixel scroll positions). */
const atEndSlackPx = 4;

async function summary(job: string, id: string): Promise<Execution | undefined> {
  const list = await jobs.listExecutions({ jobName: job, outputSizeLimit: 0 });
  return list.executions.find((e) => e.id === id);
}

export function ExecutionPage({ job, id }: { job: string; id: string }) {
  const [exec, setExec] = useState<Execution | undefined>(undefined);
  const [loadError, setLoadError] = useState("");
  const [streamError, setStreamError] = useState("");
  const [bytes, setBytes] = useState(0);
  const [follow, setFollow] = useState(true);
  const [streaming, setStreaming] = useState(false);
  const followRef = useRef(true);
  followRef.current = follow;
  const pre = useRef<HTMLPreElement>(null);
  const { errors, act, dismiss, busy } = useActions();

  useEffect(() => {
    summary(job, id).then((e) => {
      if (e === undefined) setLoadError(`execution "${id}" of job "${job}" not found`);
      else setExec(e);
    }, (e) => setLoadError(errorText(e)));
  }, [job, id]);

  useEffect(() => {
    const abort = new AbortController();
    const decoder = new TextDecoder();
    let received = 0;
    (async () => {
      setStreaming(true);
      try {
        for await (
          const msg of jobs.watchExecution({ jobName: job, executionId: id }, {
            signal: abort.signal,
          })
        ) {
          const out = pre.current;
          if (msg.event.case === "output" && out !== null) {
            received += msg.event.value.length;
            out.append(document.createTextNode(decoder.decode(msg.event.value, { stream: true })));
            if (followRef.current) out.scrollTop = out.scrollHeight;
            setBytes(received);
          } else if (msg.event.case === "finished") {
            setExec(msg.event.value);
          }
        }
        const rest = decoder.decode();
        if (rest !== "") pre.current?.append(document.createTextNode(rest));
        // A stream that ends without `finished` (another node ran it): read the summary.
        const e = await summary(job, id);
        if (e !== undefined) setExec(e);
      } catch (e) {
        if (!abort.signal.aborted) setStreamError(errorText(e));
      } finally {
        if (!abort.signal.aborted) setStreaming(false);
      }
    })();
    return () => abort.abort();
  }, [job, id]);

  const onScroll = () => {
    const out = pre.current;
    if (out === null) return;
    const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - atEndSlackPx;
    if (atEnd !== followRef.current) setFollow(atEnd);
  };
  const setFollowing = (on: boolean) => {
    setFollow(on);
    const out = pre.current;
    if (on && out !== null) out.scrollTop = out.scrollHeight;
  };

  const started = msOf(exec?.startedAt);
  const finished = msOf(exec?.finishedAt);
  const running = exec?.status === "running";
  const elapsed = started === null ? null : (finished ?? now.value) - started;
  const size = Math.max(bytes, Number(exec?.outputSize ?? 0n));

  const runAgain = async (force: boolean) => {
    let next: Execution | undefined;
    if (await act(async () => (next = (await jobs.runJob({ name: job, force })).execution))) {
      if (next !== undefined) navigate(href(["jobs", job, "executions", next.id]));
    }
  };

  return (
    <section id="execution">
      <div class="bar">
        <h2>
          <a href={href(["jobs", job])}>{job}</a> <span class="muted">/</span>{" "}
          <span class="mono">{id}</span>
        </h2>
        {exec !== undefined && <ExecBadge status={exec.status} />}
        <span class="spacer" />
        <div class="actions">
          {running && (
            <button
              type="button"
              class="danger"
              id="kill"
              disabled={busy}
              onClick={async () => {
                let done: Execution | undefined;
                if (
                  await act(
                    async () => (done =
                      (await jobs.killExecution({ jobName: job, executionId: id })).execution),
                  )
                ) {
                  if (done !== undefined) setExec(done);
                }
              }}
            >
              Kill
            </button>
          )}
          <button type="button" id="run-again" disabled={busy} onClick={() => runAgain(false)}>
            Run again
          </button>
          <button type="button" id="force-run" disabled={busy} onClick={() => runAgain(true)}>
            Force run
          </button>
        </div>
      </div>
      {loadError !== "" && <p class="error" role="alert">{loadError}</p>}
      <Errors errors={errors} dismiss={dismiss} />
      <dl class="facts">
        <dt>Started</dt>
        <dd>
          <When ms={started} />
        </dd>
        <dt>Elapsed</dt>
        <dd id="elapsed">{elapsed === null ? "—" : durationText(elapsed)}</dd>
        <dt>Output</dt>
        <dd id="bytes">{formatBytes(size)}</dd>
        <dt>Node</dt>
        <dd>{exec?.nodeName ?? ""}</dd>
        <dt>Attempt</dt>
        <dd>{exec?.attempt ?? ""}</dd>
        <dt>Exit code</dt>
        <dd id="exit">{exec?.exitCode === undefined ? "—" : String(exec.exitCode)}</dd>
        {exec !== undefined && exec.reason !== "" && (
          <>
            <dt>Reason</dt>
            <dd id="reason">{exec.reason}</dd>
          </>
        )}
      </dl>
      <div class="bar">
        <h3>Output {streaming && <span class="live">● live</span>}</h3>
        <span class="spacer" />
        <label class="check-label">
          <input
            type="checkbox"
            id="follow"
            checked={follow}
            onChange={(e) => setFollowing((e.target as HTMLInputElement).checked)}
          />
          Follow
        </label>
      </div>
      {streamError !== "" && <p class="error" role="alert">{streamError}</p>}
      <pre id="output" class="output live-output" ref={pre} onScroll={onScroll} tabIndex={0} />
    </section>
  );
}
