/**
 * net: the gossip IO shell. UDP datagrams (node:dgram) and TCP push-pull (node:net) around the
 * pure core in src/gossip, with cluster labels and an AES-GCM keyring. Runs on Bun and Deno.
 */
export { GossipShell, type ShellOptions, type ShellStats, splitAddr } from "./gossip_shell.ts";
export { type GossipNodeOptions, startGossipNode } from "./gossip_node.ts";
export { encryptionOverheadBytes, generateKey, Keyring, parseKey } from "./keyring.ts";
export { type FrameSecurity, type Opened, openFrame, sealFrame } from "./packet.ts";
