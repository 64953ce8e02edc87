import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { registerDefineGate } from "./define-gate.js";
import { registerRecordGateResult } from "./record-gate-result.js";
import { registerRequestReview } from "./request-review.js";
import { registerSubmitReview } from "./submit-review.js";

/** Quality gates and peer review (README, "Quality gates, peer review, integration, emergencies"): define_gate, record_gate_result, request_review and submit_review. */
export function registerQualityTools(server: ToolHost, ctx: Context): void {
  registerDefineGate(server, ctx);
  registerRecordGateResult(server, ctx);
  registerRequestReview(server, ctx);
  registerSubmitReview(server, ctx);
}
