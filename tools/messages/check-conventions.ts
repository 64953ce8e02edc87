import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { conventionsFor } from "../../src/control/conventions.js";
import { paginate } from "../../src/control/registry/page.js";
import { normalizeKey } from "../../src/paths.js";
import { keyString, READ_ONLY, result } from "../common.js";
import { conventionShape } from "./set-convention.js";
import { registerTool } from "../register.js";

/** `check_conventions`: the convention drift check before editing (coordination-skill.md, "Convention Drift Check"). */
export function registerCheckConventions(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "check_conventions",
    {
      title: "Check conventions",
      description:
        "Call before editing a file: the conventions covering its path. Follow them.",
      inputSchema: {
        path: keyString.describe("File or dir/"),
        cursor: z.string().max(20).optional().describe("From next_cursor"),
      },
      outputSchema: {
        path: z.string(),
        conventions: z.array(conventionShape),
        next_cursor: z.string().nullable(),
        total: z.number(),
      },
      annotations: READ_ONLY,
    },
    async (args) => {
      const key = normalizeKey(args.path, ctx.root, "path");
      const page = paginate(conventionsFor(ctx, key), args.cursor, ctx.config.control.page_size);
      const lines = page.items.map((c) => `${c.key} = "${c.value}" (scope ${c.scope}, set by ${c.set_by})`);
      const head = page.total === 0 ? `no conventions cover ${key}` : `${page.total} convention(s) cover ${key}`;
      return result(
        { path: key, conventions: page.items.map((c) => ({ ...c })), next_cursor: page.next_cursor, total: page.total },
        [head, ...lines].join("\n"),
      );
    },
  );
}
