/** cli: the `tock` command line (agent, job, exec, keygen, version, completion) and config. */
export { type AgentStartConfig, type RunningAgent, startAgent } from "./agent.ts";
export { agentConfig, type CliIo, runCli, usage, version } from "./cli.ts";
export { type AgentConfig, readConfigFile, readEnv, resolveConfig } from "./config.ts";
