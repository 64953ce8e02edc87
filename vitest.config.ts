import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Multi-process tests spawn real servers; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The JSON report is what .ci/run counts "N passed, N failed" from.
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
