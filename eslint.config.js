// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".signalbox/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // stdout carries JSON-RPC only: the server code never writes to it.
    files: ["src/**/*.ts", "tools/**/*.ts", "resources/**/*.ts"],
    ignores: ["src/cli.ts", "src/cli/**"],
    rules: { "no-console": ["error", { allow: ["error", "warn"] }] },
  },
  ...(() => {
    // A tool's error carries a stable code (src/errors.ts) that programs read instead of the message.
    const codedErrors = {
      selector: "ThrowStatement > NewExpression[callee.name='Error']",
      message: "Throw an error with a code (src/errors.ts: InvalidArgumentError, NotFoundError, ...), not a plain Error.",
    };
    // Domain code reads and writes through the port's typed transactions (src/store/txn.ts, schema.ts),
    // never through an engine's handles: only src/store/lmdb/ calls LMDB's API.
    const rawEngineCall = {
      selector:
        "CallExpression[callee.property.name=/^(getRange|getKeys|getKeysCount|getValues|getEntry|getCount|putSync|removeSync|resetReadTxn|transactionSync|childTransaction|ifVersion|ifNoExists|doesExist|openDB)$/]",
      message: "Only src/store/lmdb/ calls the engine's API; go through the store port (db.read/db.write, env.txn, schema.ts collections).",
    };
    const coded = ["tools/**/*.ts", "resources/**/*.ts", "src/control/**/*.ts", "src/analysis/planning/**/*.ts"];
    const core = ["src/**/*.ts", "tools/**/*.ts", "resources/**/*.ts", "prompts/**/*.ts"];
    const rule = (...selectors) => ({ "no-restricted-syntax": ["error", ...selectors] });
    return [
      { files: core, ignores: ["src/store/lmdb/**", ...coded], rules: rule(rawEngineCall) },
      { files: coded, rules: rule(rawEngineCall, codedErrors) },
    ];
  })(),
  ...(() => {
    // The core is engine- and protocol-neutral: only the runtime (entry points, transports) and
    // createServer meet the MCP SDK (the demos are MCP clients), and only src/store/lmdb/ imports lmdb.
    const sdk = { group: ["@modelcontextprotocol/sdk", "@modelcontextprotocol/sdk/*"], message: "The core imports nothing from the MCP SDK (src/runtime and src/server.ts do)." };
    const lmdb = { name: "lmdb", message: "Only src/store/lmdb/ talks to LMDB; the core goes through the store port (src/store/port.ts)." };
    // Only the composition roots (runtime, CLI, the hooks' command) open the LMDB engine's modules.
    const engine = {
      group: ["**/store/lmdb/*", "**/lmdb/*"],
      message: "The core reaches the store through the port (src/store/txn.ts, schema.ts); only src/runtime, src/cli and src/hooks open src/store/lmdb/.",
    };
    const sdkAllowed = ["src/runtime/**", "src/server.ts", "src/cli/demo*.ts"];
    const lmdbAllowed = ["src/store/lmdb/**"];
    const rootsAllowed = ["src/runtime/**", "src/cli/**", "src/cli.ts", "src/hooks/**", "src/server.ts"];
    // The control layer's registry (who is who, who may do what, what stops whom, inboxes) sits under
    // its use cases: a registry module never imports one (no cycles between queries and use cases).
    const registryLayer = {
      regex: "^\\.\\./[^./][^/]*$",
      message: "src/control/registry/ holds the registry queries the use cases build on; it imports no use case from src/control/.",
    };
    const rule = (patterns, paths) => ({ "no-restricted-imports": ["error", { patterns, paths }] });
    return [
      { files: ["src/**/*.ts", "tools/**/*.ts", "resources/**/*.ts", "prompts/**/*.ts"], ignores: [...sdkAllowed, ...lmdbAllowed, ...rootsAllowed], rules: rule([sdk, engine], [lmdb]) },
      { files: ["src/control/registry/**/*.ts"], rules: rule([sdk, engine, registryLayer], [lmdb]) },
      { files: ["tools/**/*.ts", "resources/**/*.ts", "prompts/**/*.ts"], rules: rule([engine], [lmdb]) },
      { files: rootsAllowed, ignores: sdkAllowed, rules: rule([sdk], [lmdb]) },
      { files: sdkAllowed, rules: rule([], [lmdb]) },
      { files: lmdbAllowed, rules: rule([sdk], []) },
    ];
  })(),
);
