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
);
