// What the sandbox's own processes listen on, read from /proc: the proof behind "every listener
// is on loopback". Only the PIDs the sandbox started are looked at (kwokctl's pid files and the
// registry's recorded PID), never anything else on the machine.
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { sandboxPaths } from './state.ts';

export interface Listener {
  pid: number;
  process: string;
  address: string;
  port: number;
}

/** PIDs of every component kwokctl started (.sandbox/kwok/clusters/<name>/pids/<component>.pid), by name. */
export async function componentPids(): Promise<Map<number, string>> {
  const pids = new Map<number, string>();
  const clusters = path.join(sandboxPaths.kwokWorkdir, 'clusters');
  if (!existsSync(clusters)) return pids;
  for (const cluster of await readdir(clusters)) {
    const dir = path.join(clusters, cluster, 'pids');
    if (!existsSync(dir)) continue;
    for (const file of await readdir(dir)) {
      const pid = Number((await readFile(path.join(dir, file), 'utf8')).trim());
      if (Number.isInteger(pid) && pid > 0) pids.set(pid, `${cluster}/${path.basename(file, '.pid')}`);
    }
  }
  return pids;
}

/** /proc/net/tcp{,6} hold addresses as little-endian hex words. */
export function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.'); // v4-mapped
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '0:0:0:0:0:0:0:1' || address === '::1';
}

const LISTEN = '0A';

/** Listening TCP sockets by inode. */
async function listeningSockets(): Promise<Map<string, { address: string; port: number }>> {
  const sockets = new Map<string, { address: string; port: number }>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== LISTEN) continue;
      const [address, port] = fields[1]!.split(':');
      sockets.set(fields[9]!, { address: decodeAddress(address!), port: parseInt(port!, 16) });
    }
  }
  return sockets;
}

export async function listenersOf(pids: Map<number, string>): Promise<Listener[]> {
  const sockets = await listeningSockets();
  const listeners: Listener[] = [];
  for (const [pid, name] of pids) {
    const fdDir = `/proc/${pid}/fd`;
    if (!existsSync(fdDir)) continue;
    for (const fd of await readdir(fdDir).catch(() => [])) {
      const target = await readlink(path.join(fdDir, fd)).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      const socket = inode ? sockets.get(inode) : undefined;
      if (socket) listeners.push({ pid, process: name, ...socket });
    }
  }
  return listeners.sort((a, b) => a.process.localeCompare(b.process) || a.port - b.port);
}
