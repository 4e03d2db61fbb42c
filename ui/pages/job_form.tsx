/**
 * Create or edit a job: a form beside a raw JSON / YAML editor of the same job. The form is the
 * source; the raw text follows it, and "Apply" copies edited raw text back into the form. The
 * server validates on save; its message is shown under the field it names (or above the form).
 */
import { fromJson, type JsonObject, toJson } from "@bufbuild/protobuf";
import { useEffect, useRef, useState } from "preact/hooks";
import { JobSchema } from "../../src/gen/tock/v1/job_pb.ts";
import { errorText, jobs } from "../client.ts";
import { fieldOfMessage, formatPairs, parsePairs } from "../format.ts";
import { href, navigate } from "../router.ts";

/** A job in REST's JSON shape (snake_case), as the raw editor shows it. */
type Draft = Record<string, unknown>;

const editable = [
  "name",
  "displayname",
  "schedule",
  "timezone",
  "owner",
  "owner_email",
  "executor",
  "executor_config",
  "tags",
  "metadata",
  "retries",
  "concurrency",
  "misfire_policy",
  "starting_deadline",
  "retry_delay",
  "retry_delay_max",
  "parent_job",
  "disabled",
  "processors",
  // Not on the form, but kept through an edit (left out, a save would clear them).
  "ephemeral",
  "starts_at",
  "expires_at",
];

const blank: Draft = {
  name: "",
  schedule: "@every 1m",
  executor: "shell",
  executor_config: { command: "" },
  concurrency: "allow",
};

type Yaml = typeof import("yaml");

function text(d: Draft, mode: "json" | "yaml", yaml: Yaml | null): string {
  if (mode === "yaml" && yaml !== null) return yaml.stringify(d);
  return JSON.stringify(d, null, 2);
}

const str = (d: Draft, k: string) => (typeof d[k] === "string" ? d[k] as string : "");
const map = (d: Draft, k: string) =>
  d[k] !== null && typeof d[k] === "object" ? d[k] as Record<string, string> : {};

export function JobForm({ name }: { name?: string }) {
  const editing = name !== undefined;
  const [draft, setDraft] = useState<Draft | null>(editing ? null : blank);
  const [loadError, setLoadError] = useState("");
  const [mode, setMode] = useState<"json" | "yaml">("json");
  const yaml = useRef<Yaml | null>(null);
  const [raw, setRaw] = useState(text(blank, "json", null));
  const [rawError, setRawError] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState("");
  const [saving, setSaving] = useState(false);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    if (name === undefined) return;
    jobs.getJob({ name }).then((res) => {
      const json = toJson(JobSchema, res.job!, { useProtoFieldName: true }) as JsonObject;
      const d: Draft = {};
      for (const k of editable) if (json[k] !== undefined) d[k] = json[k];
      setDraft(d);
      setRaw(text(d, mode, yaml.current));
      setVersion((v) => v + 1);
    }, (e) => setLoadError(errorText(e)));
  }, [name]);

  if (draft === null) {
    return (
      <section>
        <h2>Edit {name}</h2>
        {loadError !== ""
          ? <p class="error" role="alert">{loadError}</p>
          : <p class="muted">Loading…</p>}
      </section>
    );
  }

  const update = (next: Draft) => {
    setDraft(next);
    setRaw(text(next, mode, yaml.current));
    setRawError("");
  };
  const set = (k: string, v: unknown) => {
    const next = { ...draft };
    if (v === "" || v === undefined) delete next[k];
    else next[k] = v;
    update(next);
    if (fieldErrors[k] !== undefined) {
      const rest = { ...fieldErrors };
      delete rest[k];
      setFieldErrors(rest);
    }
  };

  const switchMode = async (m: "json" | "yaml") => {
    if (m === "yaml" && yaml.current === null) yaml.current = await import("yaml");
    setMode(m);
    setRaw(text(draft, m, yaml.current));
    setRawError("");
  };
  const applyRaw = () => {
    try {
      const parsed: unknown = mode === "yaml" ? yaml.current?.parse(raw) : JSON.parse(raw);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error("the text must describe one job as an object");
      }
      setDraft(parsed as Draft);
      setVersion((v) => v + 1);
      setRawError("");
    } catch (e) {
      setRawError(`${mode.toUpperCase()}: ${errorText(e)}`);
    }
  };

  const save = async (ev: Event) => {
    ev.preventDefault();
    setFormError("");
    setFieldErrors({});
    let job;
    try {
      job = fromJson(JobSchema, draft as JsonObject, { ignoreUnknownFields: true });
    } catch (e) {
      setFormError(errorText(e));
      return;
    }
    setSaving(true);
    try {
      const res = await jobs.upsertJob({ job });
      navigate(href(["jobs", res.job?.name ?? str(draft, "name")]));
    } catch (e) {
      const message = errorText(e);
      const field = fieldOfMessage(message);
      if (field !== null && fieldIds.has(field)) setFieldErrors({ [field]: message });
      else setFormError(message);
    } finally {
      setSaving(false);
    }
  };

  const fieldIds = new Set<string>(["tags", "metadata"]);
  const field = (k: string, label: string, input: preact.ComponentChildren, hint?: string) => {
    fieldIds.add(k);
    return (
      <div class={`field ${fieldErrors[k] !== undefined ? "invalid" : ""}`} data-field={k}>
        <label for={`j-${k}`}>{label}</label>
        {input}
        {hint !== undefined && <small class="muted">{hint}</small>}
        {fieldErrors[k] !== undefined && (
          <small class="field-error" role="alert">{fieldErrors[k]}</small>
        )}
      </div>
    );
  };
  const textInput = (k: string, placeholder = "", disabled = false) => (
    <input
      id={`j-${k}`}
      value={str(draft, k)}
      placeholder={placeholder}
      disabled={disabled}
      onInput={(e) => set(k, (e.target as HTMLInputElement).value)}
    />
  );
  const command = map(draft, "executor_config")["command"] ?? "";
  const otherConfig = { ...map(draft, "executor_config") };
  delete otherConfig["command"];

  return (
    <section id="job-form">
      <div class="bar">
        <h2>{editing ? `Edit ${name}` : "New job"}</h2>
        <span class="spacer" />
        {editing && <a href={href(["jobs", name])}>Back to the job</a>}
      </div>
      <div class="form-grid">
        <form onSubmit={save} key={version} noValidate>
          {formError !== "" && <p class="error" role="alert" id="form-error">{formError}</p>}
          {field(
            "name",
            "Name",
            textInput("name", "nightly-backup", editing),
            editing ? "A job's name cannot change." : "Letters, digits, - and _.",
          )}
          {field("displayname", "Display name", textInput("displayname"))}
          {field(
            "schedule",
            "Schedule",
            textInput("schedule", "0 */5 * * * *  or  @every 10s"),
            "Six fields (seconds first), or @every / @daily / @manually.",
          )}
          {field(
            "timezone",
            "Time zone",
            textInput("timezone", "UTC"),
            "IANA name, e.g. Europe/Berlin; empty is UTC.",
          )}
          {field(
            "executor",
            "Executor",
            (
              <>
                <input
                  id="j-executor"
                  list="executors"
                  value={str(draft, "executor")}
                  onInput={(e) => set("executor", (e.target as HTMLInputElement).value)}
                />
                <datalist id="executors">
                  <option value="shell" />
                  <option value="http" />
                </datalist>
              </>
            ),
          )}
          {field(
            "executor_config",
            "Command",
            (
              <textarea
                id="j-executor_config"
                rows={3}
                class="mono"
                value={command}
                onInput={(e) => {
                  const v = (e.target as HTMLTextAreaElement).value;
                  set("executor_config", { ...map(draft, "executor_config"), command: v });
                }}
              />
            ),
          )}
          <PairsField
            label="Other executor config"
            id="j-config"
            initial={formatPairs(otherConfig)}
            onMap={(m) => set("executor_config", command === "" ? m : { ...m, command })}
          />
          <PairsField
            label="Tags"
            id="j-tags"
            initial={formatPairs(map(draft, "tags"))}
            onMap={(m) => set("tags", Object.keys(m).length === 0 ? undefined : m)}
            error={fieldErrors["tags"]}
          />
          <PairsField
            label="Metadata"
            id="j-metadata"
            initial={formatPairs(map(draft, "metadata"))}
            onMap={(m) => set("metadata", Object.keys(m).length === 0 ? undefined : m)}
            error={fieldErrors["metadata"]}
          />
          <div class="row">
            {field("owner", "Owner", textInput("owner"))}
            {field("owner_email", "Owner e-mail", textInput("owner_email"))}
          </div>
          <div class="row">
            {field(
              "retries",
              "Retries",
              (
                <input
                  id="j-retries"
                  type="number"
                  min={0}
                  value={draft["retries"] === undefined ? "" : String(draft["retries"])}
                  onInput={(e) => {
                    const v = (e.target as HTMLInputElement).value;
                    set("retries", v === "" ? undefined : Number(v));
                  }}
                />
              ),
            )}
            {field(
              "concurrency",
              "Overlap",
              (
                <select
                  id="j-concurrency"
                  value={str(draft, "concurrency") || "allow"}
                  onChange={(e) => set("concurrency", (e.target as HTMLSelectElement).value)}
                >
                  <option value="allow">allow</option>
                  <option value="forbid">forbid</option>
                  <option value="replace">replace</option>
                </select>
              ),
            )}
            {field(
              "misfire_policy",
              "Missed runs",
              (
                <select
                  id="j-misfire_policy"
                  value={str(draft, "misfire_policy") || "run_once"}
                  onChange={(e) => set("misfire_policy", (e.target as HTMLSelectElement).value)}
                >
                  <option value="run_once">run once</option>
                  <option value="run_all">run all</option>
                  <option value="skip">skip</option>
                </select>
              ),
            )}
          </div>
          <div class="row">
            {field("starting_deadline", "Starting deadline", textInput("starting_deadline", "1h"))}
            {field("retry_delay", "Retry delay", textInput("retry_delay", "1s"))}
            {field("parent_job", "Parent job", textInput("parent_job"))}
          </div>
          <label class="check-label">
            <input
              type="checkbox"
              id="j-disabled"
              checked={draft["disabled"] === true}
              onChange={(e) => set("disabled", (e.target as HTMLInputElement).checked || undefined)}
            />
            Disabled
          </label>
          <div class="actions">
            <button type="submit" id="save" class="primary" disabled={saving}>
              {saving ? "Saving…" : editing ? "Save" : "Create job"}
            </button>
            <a href={editing ? href(["jobs", name]) : href(["jobs"])}>Cancel</a>
          </div>
        </form>
        <div class="raw">
          <div class="bar">
            <h3>Raw</h3>
            <span class="spacer" />
            <div class="seg" role="group" aria-label="Raw format">
              <button
                type="button"
                class={mode === "json" ? "on" : ""}
                onClick={() => switchMode("json")}
              >
                JSON
              </button>
              <button
                type="button"
                class={mode === "yaml" ? "on" : ""}
                id="raw-yaml"
                onClick={() => switchMode("yaml")}
              >
                YAML
              </button>
            </div>
            <button type="button" id="raw-apply" onClick={applyRaw}>Apply to form</button>
          </div>
          <textarea
            id="raw"
            class="mono"
            spellcheck={false}
            value={raw}
            onInput={(e) => setRaw((e.target as HTMLTextAreaElement).value)}
          />
          {rawError !== "" && <small class="field-error" role="alert">{rawError}</small>}
        </div>
      </div>
    </section>
  );
}

/** A key=value textarea that reports a map whenever its text parses. */
function PairsField(
  { label, id, initial, onMap, error }: {
    label: string;
    id: string;
    initial: string;
    onMap: (m: Record<string, string>) => void;
    error?: string | undefined;
  },
) {
  const [value, setValue] = useState(initial);
  const [bad, setBad] = useState("");
  const shown = error ?? bad;
  return (
    <div class={`field ${shown !== "" ? "invalid" : ""}`}>
      <label for={id}>{label}</label>
      <textarea
        id={id}
        rows={2}
        class="mono"
        placeholder="key=value, one per line"
        value={value}
        onInput={(e) => {
          const v = (e.target as HTMLTextAreaElement).value;
          setValue(v);
          const parsed = parsePairs(v);
          if ("error" in parsed) setBad(parsed.error);
          else {
            setBad("");
            onMap(parsed.map);
          }
        }}
      />
      {shown !== "" && <small class="field-error" role="alert">{shown}</small>}
    </div>
  );
}
