/**
 * startGossipNode: binds the UDP socket and the TCP listener on one port (port 0 picks a free
 * one), builds the core with the advertised address, starts the shell and joins the seeds.
 */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { type GossipConfig, GossipCore, makeConfig, type ProfileName } from "../gossip/mod.ts";
import { type Clock, Prng } from "../lib/mod.ts";
import { GossipShell } from "./gossip_shell.ts";
import type { Keyring } from "./keyring.ts";

export interface GossipNodeOptions {
  name: string;
  /** Address to bind (default 0.0.0.0). */
  bindHost?: string;
  /** Port for UDP and TCP (default 8946; 0 picks a free port). */
  bindPort?: number;
  /** Host peers should use to reach us (default: bindHost, or 127.0.0.1 for 0.0.0.0). */
  advertiseHost?: string;
  profile?: ProfileName;
  config?: GossipConfig;
  tags?: Record<string, string>;
  /** Seed "host:port" addresses to join through (retried until one answers). */
  join?: string[];
  keyring?: Keyring;
  label?: string;
  /** Default: unix seconds, so a restarted node outranks its earlier incarnations. */
  incarnation?: number;
  clock?: Clock;
}

function bindUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(":") ? "udp6" : "udp4");
    s.once("error", reject);
    s.bind(port, host, () => {
      s.off("error", reject);
      resolve(s);
    });
  });
}

function listenTcp(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(port, host, () => {
      srv.off("error", reject);
      resolve(srv);
    });
  });
}

export async function startGossipNode(o: GossipNodeOptions): Promise<GossipShell> {
  const bindHost = o.bindHost ?? "0.0.0.0";
  let udp: UdpSocket | undefined;
  let tcp: Server | undefined;
  for (let attempt = 0; attempt < 10 && tcp === undefined; attempt++) {
    udp = await bindUdp(bindHost, o.bindPort ?? 8946);
    const port = udp.address().port;
    try {
      tcp = await listenTcp(bindHost, port);
    } catch (e) {
      udp.close();
      udp = undefined;
      if ((o.bindPort ?? 8946) !== 0) throw e;
    }
  }
  if (udp === undefined || tcp === undefined) {
    throw new Error("could not bind gossip UDP+TCP on one port");
  }
  const port = udp.address().port;
  const advertise = o.advertiseHost ?? (bindHost === "0.0.0.0" ? "127.0.0.1" : bindHost);
  const config = o.config ?? makeConfig(o.profile ?? "lan");
  const core = new GossipCore({
    name: o.name,
    addr: advertise.includes(":") ? `[${advertise}]:${port}` : `${advertise}:${port}`,
    config,
    prng: new Prng(randomBytes(4).readUInt32LE(0)),
    tags: o.tags ?? {},
    incarnation: o.incarnation ?? Math.max(1, Math.floor(Date.now() / 1000)),
  });
  const security = {
    ...(o.label === undefined ? {} : { label: o.label }),
    ...(o.keyring === undefined ? {} : { keyring: o.keyring }),
  };
  const shell = new GossipShell({
    core,
    udp,
    tcp,
    ...(o.clock === undefined ? {} : { clock: o.clock }),
    security,
  });
  shell.start();
  if (o.join !== undefined && o.join.length > 0) core.join(o.join);
  return shell;
}
