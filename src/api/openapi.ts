/** OpenAPI 3.1 description of the Dkron-compatible REST API, served at /openapi.json. */

const jobRef = { $ref: "#/components/schemas/Job" };
const execRef = { $ref: "#/components/schemas/Execution" };
const errorRef = { $ref: "#/components/schemas/Error" };
const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
const err = (description: string) => ({ description, ...json(errorRef) });
const jobParam = { name: "job", in: "path", required: true, schema: { type: "string" } };
const nullableTime = { type: ["string", "null"], format: "date-time" };
const stringMap = { type: ["object", "null"], additionalProperties: { type: "string" } };

const upsert = {
  summary: "Create or replace a job (runoncreate starts a run after saving)",
  parameters: [{ name: "runoncreate", in: "query", schema: { type: "string" } }],
  requestBody: { required: true, ...json(jobRef) },
  responses: {
    "201": {
      description: "stored job",
      headers: { Location: { schema: { type: "string" } } },
      ...json(jobRef),
    },
    "400": err("malformed JSON, wrong types or invalid job (the message names the field)"),
    "404": err("parent job not found"),
    "413": err("body too large"),
    "503": err("new job submissions are paused"),
  },
};

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "Tock REST API",
    version: "1",
    description: 'Dkron-compatible /v1 API. Errors are JSON {"error": "..."}.',
  },
  paths: {
    "/health": { get: { summary: "Liveness", responses: { "200": { description: "healthy" } } } },
    "/v1": {
      get: { summary: "Node status", responses: { "200": { description: "agent, serf, tags" } } },
    },
    "/v1/members": {
      get: {
        summary: "Cluster members (X-Total-Count)",
        responses: { "200": { description: "members" } },
      },
    },
    "/v1/leader": {
      get: {
        summary: "Leader member",
        responses: { "200": { description: "leader" }, "500": err("no leader") },
      },
    },
    "/v1/isleader": {
      get: {
        summary: "Is this node the leader",
        responses: {
          "200": { description: "I am a leader" },
          "404": { description: "I am a follower" },
        },
      },
    },
    "/v1/jobs": {
      get: {
        summary: "List jobs (X-Total-Count = matches before paging)",
        parameters: [
          ...["_start", "_end", "_sort", "_order", "q", "status", "disabled"].map((name) => ({
            name,
            in: "query",
            schema: { type: "string" },
          })),
          {
            name: "metadata[key]",
            in: "query",
            schema: { type: "string" },
            description: "exact metadata match, repeatable",
          },
        ],
        responses: {
          "200": { description: "jobs", ...json({ type: "array", items: jobRef }) },
          "400": err("bad paging or sort parameter"),
        },
      },
      post: upsert,
      patch: upsert,
    },
    "/v1/jobs/{job}": {
      parameters: [jobParam],
      get: {
        summary: "Get a job",
        responses: { "200": { description: "job", ...json(jobRef) }, "404": err("not found") },
      },
      put: upsert,
      delete: {
        summary: "Delete a job and its executions",
        responses: {
          "200": { description: "deleted job", ...json(jobRef) },
          "404": err("not found, or the job has dependent jobs"),
        },
      },
      post: {
        summary: "Run the job now",
        responses: {
          "200": { description: "job; X-Execution-Id names the run", ...json(jobRef) },
          "404": err("not found"),
        },
      },
    },
    "/v1/jobs/{job}/run": {
      parameters: [jobParam],
      post: {
        summary: "Run the job now",
        responses: { "200": { description: "job", ...json(jobRef) }, "404": err("not found") },
      },
    },
    "/v1/jobs/{job}/toggle": {
      parameters: [jobParam],
      post: {
        summary: "Flip disabled",
        responses: { "200": { description: "job", ...json(jobRef) }, "404": err("not found") },
      },
    },
    "/v1/jobs/{job}/next": {
      parameters: [jobParam, {
        name: "n",
        in: "query",
        schema: { type: "integer", minimum: 1, maximum: 1000 },
      }],
      get: {
        summary: "Next scheduled slots",
        responses: {
          "200": { description: "RFC3339 times" },
          "400": err("bad n"),
          "404": err("not found"),
        },
      },
    },
    "/v1/jobs/{job}/executions": {
      parameters: [jobParam],
      get: {
        summary: "List executions, newest first (X-Total-Count)",
        parameters: ["_sort", "_order", "output_size_limit"].map((name) => ({
          name,
          in: "query",
          schema: { type: "string" },
        })),
        responses: {
          "200": { description: "executions", ...json({ type: "array", items: execRef }) },
          "400": err("bad parameter"),
          "404": err("job not found"),
        },
      },
      delete: {
        summary: "Delete executions and reset counters",
        responses: { "200": { description: "job", ...json(jobRef) }, "404": err("job not found") },
      },
    },
    "/v1/jobs/{job}/executions/{execution}": {
      parameters: [jobParam, {
        name: "execution",
        in: "path",
        required: true,
        schema: { type: "string" },
      }],
      get: {
        summary: "One execution with full output",
        responses: {
          "200": { description: "execution", ...json(execRef) },
          "404": err("not found"),
        },
      },
    },
    "/v1/busy": {
      get: {
        summary: "Running executions",
        responses: {
          "200": { description: "executions", ...json({ type: "array", items: execRef }) },
        },
      },
    },
    "/v1/pause": {
      get: { summary: "Pause status", responses: { "200": { description: "{paused}" } } },
      post: {
        summary: "Pause new job submissions on this node",
        responses: { "200": { description: "{paused: true}" } },
      },
    },
    "/v1/unpause": {
      post: {
        summary: "Resume job submissions",
        responses: { "200": { description: "{paused: false}" } },
      },
    },
    "/v1/restore": {
      post: {
        summary: "Import jobs from a multipart `file` holding a JSON array of jobs",
        requestBody: {
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                properties: { file: { type: "string", format: "binary" } },
              },
            },
          },
        },
        responses: {
          "200": { description: "JSON string holding an array of result lines" },
          "400": err("invalid file"),
          "404": err("no file field"),
        },
      },
    },
    "/metrics": {
      get: {
        summary: "Prometheus metrics",
        responses: { "200": { description: "text exposition" } },
      },
    },
  },
  components: {
    schemas: {
      Error: { type: "object", properties: { error: { type: "string" } }, required: ["error"] },
      Job: {
        type: "object",
        required: ["name"],
        properties: {
          id: { type: "string" },
          name: { type: "string", pattern: "^[\\p{Ll}0-9_-]+$" },
          displayname: { type: "string" },
          timezone: { type: "string" },
          schedule: { type: "string" },
          owner: { type: "string" },
          owner_email: { type: "string" },
          success_count: { type: "integer" },
          error_count: { type: "integer" },
          last_success: nullableTime,
          last_error: nullableTime,
          disabled: { type: "boolean" },
          tags: stringMap,
          metadata: stringMap,
          retries: { type: "integer", minimum: 0 },
          dependent_jobs: { type: ["array", "null"], items: { type: "string" } },
          parent_job: { type: "string" },
          processors: {
            type: "object",
            additionalProperties: { type: "object", additionalProperties: { type: "string" } },
          },
          concurrency: { type: "string", enum: ["allow", "forbid", ""] },
          executor: { type: "string" },
          executor_config: stringMap,
          status: { type: "string" },
          next: { type: "string", format: "date-time" },
          ephemeral: { type: "boolean" },
          starts_at: nullableTime,
          expires_at: nullableTime,
        },
      },
      Execution: {
        type: "object",
        properties: {
          id: { type: "string" },
          job_name: { type: "string" },
          started_at: { type: "string", format: "date-time" },
          finished_at: { type: "string", format: "date-time" },
          success: { type: "boolean" },
          output: { type: "string" },
          node_name: { type: "string" },
          group: { type: "integer" },
          attempt: { type: "integer" },
          output_truncated: { type: "boolean" },
          status: { type: "string", enum: ["running", "success", "failed", "missed", "lost"] },
          exit_code: { type: ["integer", "null"] },
          output_size: { type: "integer" },
          reason: { type: "string" },
        },
      },
    },
  },
};
