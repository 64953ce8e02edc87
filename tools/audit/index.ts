import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { registerAuditHandoff } from "./audit-handoff.js";
import { registerEmitAuditSignal } from "./emit-audit-signal.js";
import { registerResolveAuditSignal } from "./resolve-audit-signal.js";

/** S3* audit: emit_audit_signal, resolve_audit_signal and audit_handoff. */
export function registerAuditTools(server: ToolHost, ctx: Context): void {
  registerEmitAuditSignal(server, ctx);
  registerResolveAuditSignal(server, ctx);
  registerAuditHandoff(server, ctx);
}
