import { describe, expect, it } from "vitest";
import { renderPanels } from "../../src/train/grpo/plot.js";

describe("renderPanels", () => {
  const series = [{ points: [[0, 0.01], [10, 0.02]] as const, color: "#000", label: "acc" }];
  it("scales each panel's y axis to its data, or to `range` when given", () => {
    const auto = renderPanels("t", [{ title: "p", series }]);
    expect(auto).toContain(">0.020<");
    expect(auto).not.toContain(">1.00<");
    const fixed = renderPanels("t", [{ title: "p", series, range: [0, 1] }]);
    expect(fixed).toContain(">1.00<");
    expect(fixed).toContain(">0.0<");
  });
});
