/**
 * Raft server id → RPC address ("host:port"), kept in the data dir so a restarted server can
 * reach its peers before gossip tells it anything. Addresses change (a server restarted on
 * another IP or port): membership updates them; identity is the id, never the address.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { errorMessage } from "../lib/mod.ts";

export class AddressBook {
  readonly #path: string;
  readonly #map = new Map<string, string>();
  readonly #listeners: Array<(id: string, addr: string | undefined) => void> = [];

  constructor(path: string) {
    this.#path = path;
    if (!existsSync(path)) return;
    try {
      const v = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
      for (const [id, a] of Object.entries(v)) if (typeof a === "string") this.#map.set(id, a);
    } catch (e) {
      // Only a cache of what membership re-announces: start empty rather than refuse to start.
      console.error(`tock: ignoring unreadable ${path}: ${errorMessage(e)}`);
    }
  }

  get(id: string): string | undefined {
    return this.#map.get(id);
  }

  entries(): Array<[string, string]> {
    return [...this.#map];
  }

  onChange(fn: (id: string, addr: string | undefined) => void): void {
    this.#listeners.push(fn);
  }

  set(id: string, addr: string): void {
    if (this.#map.get(id) === addr) return;
    this.#map.set(id, addr);
    this.#save();
    for (const l of this.#listeners) l(id, addr);
  }

  delete(id: string): void {
    if (!this.#map.delete(id)) return;
    this.#save();
    for (const l of this.#listeners) l(id, undefined);
  }

  #save(): void {
    const tmp = `${this.#path}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.#map), null, 1));
    renameSync(tmp, this.#path);
  }
}
