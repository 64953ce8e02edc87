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
    files: ["tools/**/*.ts", "resources/**/*.ts", "src/control/**/*.ts", "src/planning/**/*.ts"],
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
  {
    // The core is engine- and protocol-neutral: only the runtime (entry points, transports) and
    // createServer meet the MCP SDK; the demos are MCP clients.
    files: ["src/**/*.ts"],
    ignores: ["src/runtime/**", "src/server.ts", "src/cli/demo*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@modelcontextprotocol/sdk", "@modelcontextprotocol/sdk/*"], message: "The core imports nothing from the MCP SDK (src/runtime and src/server.ts do)." }] },
      ],
    },
  },
);
