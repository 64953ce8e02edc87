/**
 * The server's side of the MCP `initialize` exchange (MCP specification,
 * "Lifecycle": the client's `initialize` request, the server's answer with
 * the negotiated protocol version, capabilities, server info and
 * instructions), in a module that loads nothing heavy, so the stdio entry
 * point can answer it before the SDK and the store are loaded
 * (stdio-early.ts).
 *
 * The answer is the one the SDK's `Server` gives (`_oninitialize` in
 * @modelcontextprotocol/sdk 1.x): the requested version if supported, else
 * the latest; the capabilities as they stand once every tool, resource and
 * prompt is registered. createServer passes these same values to the SDK and
 * checks that the SDK's capabilities equal {@link SERVER_CAPABILITIES}, and a
 * test compares the version lists with the SDK's, so the early answer and the
 * SDK's never differ.
 */
import { TOOLSET_NAMES, TOOLSETS } from "../../tools/toolsets.js";
import { VERSION } from "./version.js";

/** Protocol versions the server speaks, newest first (the SDK's `SUPPORTED_PROTOCOL_VERSIONS`). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = Object.freeze(["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"]);

/** The version answered to a client asking for one the server does not speak (the SDK's `LATEST_PROTOCOL_VERSION`). */
export const LATEST_PROTOCOL_VERSION = "2025-11-25";

/** `serverInfo` of the `initialize` answer. */
export const SERVER_INFO = Object.freeze({ name: "signalbox", title: "signalbox", version: VERSION });

/**
 * The server's capabilities once everything is registered: logging; resources
 * with subscriptions and list changes; tools with list changes
 * (`enable_toolsets`); prompts; argument completion (resource templates).
 */
export const SERVER_CAPABILITIES = Object.freeze({
  logging: {},
  resources: { subscribe: true, listChanged: true },
  tools: { listChanged: true },
  prompts: { listChanged: true },
  completions: {},
});

/** Short usage guide sent to clients in `initialize`. */
export const INSTRUCTIONS = [
  "signalbox coordinates agents on one codebase. Pass your own agent_id on every call.",
  "1. Lock before writing: acquire_lock (mode write), verify_lock before the write, release_lock after; renew_lease for long work.",
  "2. Report status: start_feature, then report_status as your heartbeat (it says if you are paused), then complete_feature or fail_feature.",
  "3. Read your inbox: get_inbox, then acknowledge; handoffs, audit signals and checkpoints arrive there.",
  "Before editing a file: check_conventions. Arbitrations go in the decision log (record_decision).",
  "Orchestrators: check_parallel or plan_waves, then dispatch_agents; subscribe to signalbox://state, signalbox://agents and signalbox://locks.",
  `Tools come in toolsets; core is listed. Call enable_toolsets for more: ${TOOLSET_NAMES.filter((t) => t !== "core")
    .map((t) => `${t} (${TOOLSETS[t]})`)
    .join("; ")}.`,
].join("\n");

/** The result of an `initialize` request asking for `requestedVersion`. */
export interface InitializeResult {
  protocolVersion: string;
  capabilities: typeof SERVER_CAPABILITIES;
  serverInfo: typeof SERVER_INFO;
  instructions: string;
}

/**
 * The answer to `initialize`: the requested protocol version when the server
 * speaks it, else {@link LATEST_PROTOCOL_VERSION} (MCP "Lifecycle", version
 * negotiation: the client disconnects if it cannot speak the answer).
 */
export function initializeResult(requestedVersion: string): InitializeResult {
  const protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(requestedVersion) ? requestedVersion : LATEST_PROTOCOL_VERSION;
  return { protocolVersion, capabilities: SERVER_CAPABILITIES, serverInfo: SERVER_INFO, instructions: INSTRUCTIONS };
}
