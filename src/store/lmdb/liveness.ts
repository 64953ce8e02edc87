/**
 * Process liveness on one host (store/port.ts `Liveness`): a record's
 * process runs when it was written in this boot and signal 0 reaches its
 * pid. Light on purpose: the hooks' read-only reader loads it.
 */
import type { Liveness } from "../port.js";

/** Whether a process with this pid runs on this machine (`kill(pid, 0)`; EPERM means it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Liveness of processes on this host in boot `bootId`: a process of another boot is gone; on this boot, ask the kernel. */
export function hostLiveness(bootId: string): Liveness {
  return { isAlive: ({ pid, boot }) => boot === bootId && pidAlive(pid) };
}
