/**
 * Per-executor overhead: launch -> message acknowledged, i.e. the time executor.run() takes for
 * one run on a fresh connection, until the broker's acknowledgement (redis reply, NATS flush
 * PONG, RabbitMQ publisher confirm, Kafka acks=all, gRPC reply, plugin result). Sequential runs
 * against servers on this machine: Redis, NATS and RabbitMQ on their standard ports, kfake and a
 * grpc-go server built from test/fixtures/gobrokers, the Python example plugin; noop and shell
 * `true` as baselines. Prints p50/p99 in ms and runs/s per executor.
 * Usage: bun bench/executors.ts [--runs 200] [--only redis,nats]
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Executor, executorRegistry, loadPlugins } from "../src/executor/mod.ts";
import { limits } from "../src/lib/mod.ts";
import { startGoServer } from "../test/support/gobrokers.ts";
import { repoRoot } from "../test/support/proc.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "200" }, only: { type: "string", default: "" } },
});
const runs = Number(values.runs);
const only = values.only === "" ? undefined : new Set(values.only.split(","));
const registry = executorRegistry();
const plugins = loadPlugins(join(repoRoot, "test/fixtures/plugins"), new Set(registry.keys()));
for (const [n, e] of plugins.executors) registry.set(n, e);

const kfake = await startGoServer("kfake");
const grpc = await startGoServer("grpcserver");
const cases: Array<[string, Record<string, string>]> = [
  ["noop", {}],
  ["shell", { command: "true" }],
  ["redis", { url: "redis://127.0.0.1:6379", command: "SET tock-bench v" }],
  ["nats", { url: "nats://127.0.0.1:4222", subject: "tock.bench", message: "m" }],
  ["rabbitmq", {
    url: "amqp://guest:guest@127.0.0.1:5672",
    "queue.name": "tock-bench",
    "queue.create": "true",
    "queue.auto_delete": "true",
    "message.body": "m",
  }],
  ["kafka", { brokerAddress: kfake.addr, topic: "tock-bench", message: "m" }],
  ["grpc", { url: `${grpc.addr}/grpc.health.v1.Health/Check`, body: '{"service":"tock"}' }],
  ["pyecho", { message: "m" }],
];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function once(ex: Executor, config: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const r = await ex.run({
    executionId: "1-1",
    jobName: "bench",
    executor: ex.name,
    config,
    signal: new AbortController().signal,
    onOutput: () => {},
    outputBytesMax: limits.outputBytesMax,
  });
  const ms = performance.now() - t0;
  if (!r.success) throw new Error(`${ex.name} failed: ${r.error}`);
  return ms;
}

console.log(`executor overhead, ${runs} sequential runs each, fresh connection per run`);
console.log("executor    p50 ms   p99 ms   runs/s");
try {
  for (const [name, config] of cases) {
    if (only && !only.has(name)) continue;
    const ex = registry.get(name);
    if (!ex) throw new Error(`no executor ${name}`);
    await once(ex, config); // warm-up: module init, topic and queue creation
    const samples: number[] = [];
    const start = performance.now();
    for (let i = 0; i < runs; i++) samples.push(await once(ex, config));
    const total = (performance.now() - start) / 1000;
    samples.sort((a, b) => a - b);
    console.log(
      `${name.padEnd(10)} ${pct(samples, 50).toFixed(2).padStart(7)}  ${
        pct(samples, 99).toFixed(2).padStart(7)
      }  ${(runs / total).toFixed(0).padStart(7)}`,
    );
  }
} finally {
  kfake.stop();
  grpc.stop();
}
