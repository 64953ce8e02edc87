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
);
