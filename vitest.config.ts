import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Multi-process tests spawn real servers; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Servers the tests spawn list every toolset (the default is core only;
    // test/toolsets.test.ts checks the default with this variable cleared).
    env: { SIGNALBOX_TOOLSETS: "all" },
    // The JSON report is what .ci/run counts "N passed, N failed" from.
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
