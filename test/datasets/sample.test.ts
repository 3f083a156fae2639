/**
 * The checked-in sample set (datasets/sample), decoded through the video layer: the claims the
 * generator makes are checked on real h264 frames, at the rungs the dataset states.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readDataset, videoPath } from "../../datasets/io.js";
import type { DatasetItem } from "../../datasets/schema.js";
import { CODE_ALPHABET, cueVisible, DIGITS, readText, type TextBox } from "../../datasets/synth/index.js";
import { legibleRung } from "../../src/eval/select.js";
import { getFrames, uniformTimes } from "../../src/video/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../datasets/sample");
interface Meta {
  family: string;
  width: number;
  height: number;
  duration: number;
  cue: { start: number; end: number };
  text: TextBox[];
}
const meta = (i: DatasetItem) => i.meta as unknown as Meta;

async function load(split: string) {
  const file = join(root, `${split}.jsonl`);
  const d = await readDataset(file);
  return { file, d };
}

describe.each(["val", "test"])("sample set: %s", (split) => {
  it("passes data check and has two items per family", async () => {
    const { d } = await load(split);
    expect(d.errors).toEqual([]);
    const fams = d.items.map((x) => meta(x.item).family);
    for (const f of ["flash-digit", "count", "order", "small-code", "change", "when"]) expect(fams.filter((x) => x === f)).toHaveLength(2);
  });

  it("the cue shows in the 8-frame low overview (tolerant, as the agent's first look) and only inside the cue segment", { timeout: 240_000 }, async () => {
    const { file, d } = await load(split);
    for (const { item } of d.items) {
      const m = meta(item);
      const r = await getFrames({ video: videoPath(file, item), at: uniformTimes(m.duration, 8), resolution: { ladder: "tiny", rung: "low" }, mode: "tolerant" });
      const seen = r.frames.map((f) => cueVisible(f));
      expect(seen.some(Boolean), `${item.id}: no overview frame shows the cue`).toBe(true);
      r.frames.forEach((f, k) => {
        const inside = f.timestamp >= m.cue.start - 1e-3 && f.timestamp < m.cue.end;
        expect(seen[k], `${item.id} t=${f.timestamp}`).toBe(inside);
      });
    }
  });

  it("text is read at the rung its evidence states, and small text is not read at low", { timeout: 240_000 }, async () => {
    const { file, d } = await load(split);
    let smallChecked = 0;
    for (const { item } of d.items) {
      const m = meta(item);
      if (m.text.length === 0) continue;
      const minPixels = Math.max(...(item.evidence ?? []).map((e) => e.min_pixels));
      const rung = legibleRung("tiny", m, minPixels);
      const at = m.text.map((t) => Math.round(((t.from + t.to) / 2) * 1000) / 1000);
      const alphabet = m.family === "small-code" ? CODE_ALPHABET : DIGITS;
      const read = async (r: string) => {
        const res = await getFrames({ video: videoPath(file, item), at, resolution: { ladder: "tiny", rung: r } });
        return m.text.map((t, k) => readText(res.frames[k]!, { ...t, length: t.text.length }, m.width, m.height, alphabet)).join("|");
      };
      const truth = m.text.map((t) => t.text).join("|");
      expect(await read(rung), `${item.id} at ${rung}`).toBe(truth);
      if (rung === "high") {
        smallChecked++;
        expect(await read("low"), `${item.id} must not be legible at low`).not.toBe(truth);
      }
    }
    expect(smallChecked).toBe(4);
  });
});
