/**
 * net: the gossip IO shell. UDP datagrams (node:dgram) and TCP push-pull (node:net) around the
 * pure core in src/gossip, with cluster labels and an AES-GCM keyring. Runs on Bun and Deno.
 */
export {
  type Clock,
  GossipShell,
  type ShellOptions,
  type ShellStats,
  splitAddr,
  systemClock,
} from "./gossip_shell.ts";
export { type GossipNodeOptions, startGossipNode } from "./node.ts";
export { encryptionOverheadBytes, generateKey, Keyring, parseKey } from "./keyring.ts";
export { type FrameSecurity, type Opened, openFrame, sealFrame } from "./packet.ts";
export {
  attachKeyringOps,
  type KeyringOp,
  KeyringOps,
  type KeyringOpsOptions,
  keyringQueryNames,
  type KeyringResult,
  type QueryPort,
} from "./keyring_ops.ts";
export { readKeyringFile, writeKeyringFile } from "./keyring_file.ts";
