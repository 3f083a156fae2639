import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two cores: run files two at a time so ffmpeg-heavy suites do not starve each other.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
