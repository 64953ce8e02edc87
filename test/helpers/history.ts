/** The client-side lock history and its interval checker live in torture/history.ts (shared with the torture harness). */
export * from "../../torture/history.js";
