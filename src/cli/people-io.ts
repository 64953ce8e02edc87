/**
 * Where the people commands (people.ts, people-data.ts) write and how they
 * end, and their usage error: shared by both without a cycle between them.
 */
import pc from "picocolors";

/** Where the commands write and how they end; tests pass their own. */
export interface PeopleIo {
  /** Write to stdout. */
  out(text: string): void;
  /** Write to stderr. */
  err(text: string): void;
  /** Set the process exit code (0 ok, 1 failure or no store, 2 bad argument). */
  exit(code: number): void;
  /** Colour on (default: picocolors' detection, honouring NO_COLOR / FORCE_COLOR / TTY). */
  color: boolean;
  /** stdout is a terminal: `--watch` clears the screen and fits the table to its width. */
  isTTY: boolean;
  /** Terminal columns, when known. */
  columns?: number;
  env: NodeJS.ProcessEnv;
  /** Call `handler` on Ctrl-C (SIGINT); returns the function that stops listening. */
  onInterrupt(handler: () => void): () => void;
}

/** The real process: stdout, stderr, process.exitCode, SIGINT. */
export function processIo(): PeopleIo {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    exit: (code) => {
      process.exitCode = code;
    },
    color: pc.isColorSupported,
    isTTY: process.stdout.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
    env: process.env,
    onInterrupt(handler) {
      process.once("SIGINT", handler);
      return () => void process.off("SIGINT", handler);
    },
  };
}

/** A bad command-line argument: exit code 2. The message starts with the option's name. */
export class UsageError extends Error {}
