/**
 * The grpc executor (Dkron's dkron-executor-grpc): calls one unary method by its full name
 * with a JSON body over plaintext HTTP/2 and succeeds when the status is `expectCode` (0, OK).
 *
 * Built on Connect's gRPC transport (@connectrpc/connect-node) and protobuf-es descriptors
 * (@bufbuild/protobuf), the RPC stack Tock already ships: a method found at run time becomes a
 * DescMethod, the JSON body is parsed into its input message and the reply printed as JSON,
 * with no generated code. Chosen over @grpc/grpc-js + proto-loader: no second protobuf runtime,
 * and the same code runs on Bun and Deno.
 *
 * Dkron's keys: `url` (`host:port/package.Service/Method`), `body`, `timeout` (seconds, 30),
 * `expectCode`, `headers` (JSON array of "name: value", sent as metadata). Tock's:
 * `descriptorSet` — a binary FileDescriptorSet file (`buf build -o x.binpb`, `protoc
 * --include_imports --descriptor_set_out`) used instead of server reflection.
 * Unlike Dkron the reply is the output (Dkron drops it).
 */
import { readFileSync } from "node:fs";
import {
  create,
  createFileRegistry,
  type DescMethodUnary,
  type FileRegistry,
  fromBinary,
  fromJson,
  type JsonValue,
  toJsonString,
} from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ServerReflection } from "../gen/grpc/reflection/v1/reflection_pb.ts";
import {
  boundedRun,
  brokerExecutor,
  checkKeys,
  errorText,
  failed,
  ok,
  text,
  timeoutSeconds,
} from "./_bounded.ts";
import {
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  type OutputSink,
} from "./_types.ts";

const known = ["url", "body", "timeout", "expectCode", "headers", "descriptorSet"];

interface GrpcPlan {
  baseUrl: string;
  service: string;
  method: string;
  body: string;
  timeoutS: number;
  expectCode: number;
  headers: Array<[string, string]>;
  descriptorSet: string | undefined;
}

function plan(config: Record<string, string>, strict: boolean): GrpcPlan {
  if (strict) checkKeys(config, known, "grpc");
  const url = config.url ?? "";
  const parts = url.replace(/^(grpc|http):\/\//, "").split("/");
  if (parts.length < 2) {
    throw new Error(`grpc: url "${url}" is not host:port/package.Service/Method`);
  }
  const [host, service, method] = parts as [string, string, string | undefined];
  if (!/^[^\s/]+:\d{1,5}$/.test(host)) throw new Error(`grpc: url "${url}" has no host:port`);
  if (
    method === undefined || parts.length !== 3 || !/^[A-Za-z_][\w.]*$/.test(service) ||
    !/^\w+$/.test(method)
  ) {
    throw new Error(`grpc: url "${url}" is not host:port/package.Service/Method`);
  }
  const timeoutS = timeoutSeconds(
    config,
    "grpc",
    (text) => `grpc: Invalid timeout "${text}" (whole seconds)`,
  );
  const codeText = config.expectCode ?? "";
  let expectCode = 0;
  if (codeText !== "") {
    if (!/^\d+$/.test(codeText) || Number(codeText) > 16) {
      throw new Error(`grpc: Invalid expectCode "${codeText}" (a gRPC status number 0-16)`);
    }
    expectCode = Number(codeText);
  }
  const headers: Array<[string, string]> = [];
  if ((config.headers ?? "") !== "") {
    let list: unknown;
    try {
      list = JSON.parse(config.headers as string);
    } catch {
      list = undefined;
    }
    if (!Array.isArray(list) || !list.every((h) => typeof h === "string" && h.indexOf(":") > 0)) {
      throw new Error(
        `grpc: Parsing headers failed: ${
          JSON.stringify(config.headers)
        } is not a JSON array of "name: value"`,
      );
    }
    for (const h of list as string[]) {
      const colon = h.indexOf(":");
      headers.push([h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim()]);
    }
  }
  const body = config.body ?? "";
  if (body !== "") {
    try {
      JSON.parse(body);
    } catch (e) {
      throw new Error(`grpc: body is not JSON: ${(e as Error).message}`);
    }
  }
  return {
    baseUrl: `http://${host}`,
    service,
    method,
    body,
    timeoutS,
    expectCode,
    headers,
    descriptorSet: (config.descriptorSet ?? "") === "" ? undefined : config.descriptorSet,
  };
}

/** Files from a descriptor set file on disk. */
function filesFromSet(path: string): FileDescriptorProto[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`grpc: descriptorSet "${path}" cannot be read: ${(e as Error).message}`);
  }
  try {
    return fromBinary(FileDescriptorSetSchema, bytes).file;
  } catch (e) {
    throw new Error(
      `grpc: descriptorSet "${path}" is not a FileDescriptorSet: ${(e as Error).message}`,
    );
  }
}

/**
 * Asks the server's reflection service for the file defining `symbol`, then for every import
 * not yet sent, until the set is closed under imports (servers usually send them all at once).
 */
async function filesFromReflection(
  transport: Transport,
  symbol: string,
  signal: AbortSignal,
): Promise<FileDescriptorProto[]> {
  const client = createClient(ServerReflection, transport);
  const files = new Map<string, FileDescriptorProto>();
  const ask = async (req: { case: "fileContainingSymbol" | "fileByFilename"; value: string }) => {
    const responses = client.serverReflectionInfo(
      (async function* () {
        yield { messageRequest: req };
      })(),
      { signal },
    );
    for await (const res of responses) {
      const r = res.messageResponse;
      if (r.case === "errorResponse") {
        throw new Error(
          `server reflection has no ${req.value}: ${r.value.errorMessage} (code ${r.value.errorCode})`,
        );
      }
      if (r.case !== "fileDescriptorResponse") {
        throw new Error(`server reflection answered ${r.case}`);
      }
      for (const b of r.value.fileDescriptorProto) {
        const f = fromBinary(FileDescriptorProtoSchema, b);
        files.set(f.name, f);
      }
      return;
    }
  };
  await ask({ case: "fileContainingSymbol", value: symbol });
  for (let guard = 0; guard < 1_000; guard++) {
    const missing = [...files.values()].flatMap((f) => f.dependency).find((d) => !files.has(d));
    if (missing === undefined) break;
    await ask({ case: "fileByFilename", value: missing });
    if (!files.has(missing)) throw new Error(`server reflection did not send ${missing}`);
  }
  return [...files.values()];
}

function methodOf(registry: FileRegistry, service: string, method: string): DescMethodUnary {
  const svc = registry.getService(service);
  if (!svc) throw new Error(`grpc: service ${service} is not known to the server's descriptors`);
  const m = svc.methods.find((x) => x.name === method);
  if (!m) {
    throw new Error(
      `grpc: ${service} has no method ${method} (has: ${
        svc.methods.map((x) => x.name).join(", ")
      })`,
    );
  }
  if (m.methodKind !== "unary") {
    throw new Error(`grpc: ${service}/${method} is ${m.methodKind}, not unary`);
  }
  return m as DescMethodUnary;
}

async function call(
  p: GrpcPlan,
  sink: OutputSink,
  signal: AbortSignal,
  sessions: Http2SessionManager,
): Promise<ExecutionResult> {
  const transport = createGrpcTransport({ baseUrl: p.baseUrl, sessionManager: sessions });
  let files: FileDescriptorProto[];
  if (p.descriptorSet !== undefined) files = filesFromSet(p.descriptorSet);
  else {
    try {
      files = await filesFromReflection(transport, p.service, signal);
    } catch (e) {
      throw new Error(`grpc: reflection on ${p.baseUrl.slice(7)} failed: ${describe(e)}`);
    }
  }
  let registry: FileRegistry;
  try {
    registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
  } catch (e) {
    throw new Error(`grpc: the descriptors do not form a complete set: ${(e as Error).message}`);
  }
  const method = methodOf(registry, p.service, p.method);
  let input;
  try {
    input = fromJson(method.input, (p.body === "" ? {} : JSON.parse(p.body)) as JsonValue, {
      registry,
    });
  } catch (e) {
    throw new Error(`grpc: body does not fit ${method.input.typeName}: ${(e as Error).message}`);
  }
  let code = 0;
  let detail = "";
  try {
    const res = await transport.unary(method, signal, p.timeoutS * 1000, p.headers, input);
    sink.write(text(`${toJsonString(method.output, res.message, { registry })}\n`));
  } catch (e) {
    const ce = ConnectError.from(e);
    if (signal.aborted) throw e;
    code = ce.code;
    detail = ce.rawMessage;
  }
  if (code !== p.expectCode) {
    const why = detail === "" ? "" : `: ${detail}`;
    return failed(
      sink,
      `grpc: server returned ${code} (${Code[code] ?? "?"}) code, expected ${p.expectCode}${why}`,
      code,
    );
  }
  if (detail !== "") sink.write(text(`${detail}\n`));
  return ok(sink, code);
}

function describe(e: unknown): string {
  if (e instanceof ConnectError) return `${Code[e.code]}: ${e.rawMessage}`;
  return errorText(e);
}

async function run(req: ExecutionRequest, sink: OutputSink, p: GrpcPlan): Promise<ExecutionResult> {
  // One HTTP/2 connection per run, closed at its end: the transport's default manager would
  // keep each run's connection open (idle) for minutes.
  const sessions = new Http2SessionManager(p.baseUrl);
  // The transport's own deadline covers the call; bounded() also covers reflection and a
  // server that accepts the connection and never speaks HTTP/2.
  return await boundedRun(sink, req.signal, {
    what: "grpc",
    timeoutMs: p.timeoutS * 1000 + 1_000,
    work: (s) => call(p, sink, s, sessions),
    done: (result) => result,
    close: () => sessions.abort(),
    describe,
  });
}

/** At job create a descriptor set on disk is read, and must hold the method. */
function checkDescriptorSet(p: GrpcPlan): void {
  if (p.descriptorSet !== undefined) {
    const registry = createFileRegistry(
      create(FileDescriptorSetSchema, { file: filesFromSet(p.descriptorSet) }),
    );
    methodOf(registry, p.service, p.method);
  }
}

export const grpcExecutor: Executor = brokerExecutor("grpc", plan, run, checkDescriptorSet);
