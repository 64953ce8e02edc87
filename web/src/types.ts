/** The wire shapes of the dashboard API, shared with the server (src/dashboard/types.ts). */
export type * from "../../src/dashboard/types.js";
