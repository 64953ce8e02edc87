/**
 * Logging to stderr: stdout belongs to JSON-RPC (DESIGN.md, "Errors and bad input").
 */

/** Levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A structured logger; every line goes to stderr. */
export interface Logger {
  log(level: LogLevel, message: string, data?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Logger writing `level message {json}` lines to stderr at or above `min` (default from SIGNALBOX_LOG, else warn). */
export function stderrLogger(min: LogLevel = (process.env.SIGNALBOX_LOG as LogLevel | undefined) ?? "warn"): Logger {
  const floor = ORDER[min] ?? ORDER.warn;
  return {
    log(level, message, data) {
      if (ORDER[level] < floor) return;
      process.stderr.write(`signalbox ${level} ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`);
    },
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { log() {} };
