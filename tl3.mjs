import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
const c = new Client({name:"x",version:"0"});
await c.connect(new StdioClientTransport({command:"node",args:["dist/src/cli.js","--root","/tmp"]}));
const r = await c.listTools();
console.log(JSON.stringify(r.tools.find(t=>t.name===process.argv[2])));
await c.close();
