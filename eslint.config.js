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
  {
    // A tool's error carries a stable code (src/errors.ts) that programs read instead of the message.
    files: ["tools/**/*.ts", "resources/**/*.ts", "src/control/**/*.ts", "src/analysis/planning/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message: "Throw an error with a code (src/errors.ts: InvalidArgumentError, NotFoundError, ...), not a plain Error.",
        },
      ],
    },
  },
  ...(() => {
    // The core is engine- and protocol-neutral: only the runtime (entry points, transports) and
    // createServer meet the MCP SDK (the demos are MCP clients), and only src/store/lmdb/ imports lmdb.
    const sdk = { group: ["@modelcontextprotocol/sdk", "@modelcontextprotocol/sdk/*"], message: "The core imports nothing from the MCP SDK (src/runtime and src/server.ts do)." };
    const lmdb = { name: "lmdb", message: "Only src/store/lmdb/ talks to LMDB; the core goes through the store port (src/store/port.ts)." };
    const sdkAllowed = ["src/runtime/**", "src/server.ts", "src/cli/demo*.ts"];
    const lmdbAllowed = ["src/store/lmdb/**"];
    const rule = (patterns, paths) => ({ "no-restricted-imports": ["error", { patterns, paths }] });
    return [
      { files: ["src/**/*.ts"], ignores: [...sdkAllowed, ...lmdbAllowed], rules: rule([sdk], [lmdb]) },
      { files: sdkAllowed, rules: rule([], [lmdb]) },
      { files: lmdbAllowed, rules: rule([sdk], []) },
    ];
  })(),
);
