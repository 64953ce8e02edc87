/**
 * Every resource this server offers, registered with the SDK and kept with
 * its read function, so the server can read its own resources: a
 * subscription (subscriptions.ts) re-reads what a client subscribed to after
 * a commit and notifies only if the content changed.
 */
import { ResourceTemplate, type McpServer, type ResourceMetadata } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Variables } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import type { ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import { NotFoundError } from "../src/errors.js";

/** Reads a fixed resource. */
export type ReadFixed = (uri: URL) => Promise<ReadResourceResult>;
/** Reads one resource of a template, given the URI's variables. */
export type ReadTemplated = (uri: URL, variables: Variables) => Promise<ReadResourceResult>;

/** The server's resources and resource templates with their read functions. */
export class ResourceCatalog {
  private readonly fixed = new Map<string, ReadFixed>();
  private readonly templates: { template: ResourceTemplate; read: ReadTemplated }[] = [];

  constructor(private readonly server: McpServer) {}

  /** Register a fixed resource at `uri`. */
  fixedResource(name: string, uri: string, metadata: ResourceMetadata, read: ReadFixed): void {
    this.server.registerResource(name, uri, metadata, (u) => read(u));
    this.fixed.set(uri, read);
  }

  /** Register a resource template. */
  templateResource(name: string, template: ResourceTemplate, metadata: ResourceMetadata, read: ReadTemplated): void {
    this.server.registerResource(name, template, metadata, (u, vars) => read(u, vars));
    this.templates.push({ template, read });
  }

  /**
   * Read the resource at `uri` as a client would.
   * @throws Error naming `uri` when no resource or template matches it, or the read's own Error (e.g. an unknown plan_id).
   */
  async read(uri: string): Promise<ReadResourceResult> {
    const fixed = this.fixed.get(uri);
    if (fixed) return fixed(new URL(uri));
    for (const { template, read } of this.templates) {
      const vars = template.uriTemplate.match(uri);
      if (vars) return read(new URL(uri), vars);
    }
    throw new NotFoundError("uri", `uri: no resource "${uri}"; resources/list and resources/templates/list name them`);
  }
}
