/**
 * net: the gossip IO shell. UDP datagrams (node:dgram) and TCP push-pull (node:net) around the
 * pure core in src/gossip, with cluster labels and an AES-GCM keyring. Runs on Bun and Deno.
 *
 * Cluster-wide key rotation: on every node, right after startGossipNode,
 * `const ops = attachKeyringOps(shell, { persist: (keys) => writeKeyringFile(path, keys) })`;
 * then `await ops.install(k) / ops.use(k) / ops.remove(k) / ops.list()` on any one node returns
 * the aggregate KeyringResult (members, acks, errors by node, missing, key → holders).
 */
export { GossipShell, type ShellOptions, type ShellStats, splitAddr } from "./gossip_shell.ts";
export { type GossipNodeOptions, startGossipNode } from "./gossip_node.ts";
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
