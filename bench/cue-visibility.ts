// Is the synthetic suite's cue visible in the model's overview? For every item, the 8-frame
// tolerant overview at a `tiny` rung; each frame scored by how far it is from the per-pixel
// median of its 8 frames (the background). Prints the AUC of that score for "frame inside the cue
// segment" per rung and family: 1.0 = a trivial pixel test separates cue frames.
// Usage: node dist/bench/cue-visibility.js DATASET.jsonl [DATASET.jsonl ...]
import { z } from 'zod';
import { loadDataset, videoPath } from '../datasets/io.js';
import { getFrames, probe, uniformTimes } from '../src/video/index.js';

const Cue = z.object({ family: z.string(), cue: z.object({ start: z.number(), end: z.number() }) });
interface Scored { score: number; inCue: boolean; family: string }

/** Mean absolute difference of each frame from the per-pixel median of all frames. */
function medianDistances(frames: readonly Uint8Array[]): number[] {
  const n = frames[0]!.length;
  const med = new Float32Array(n);
  const col = new Array<number>(frames.length);
  for (let i = 0; i < n; i++) {
    frames.forEach((f, k) => (col[k] = f[i]!));
    col.sort((a, b) => a - b);
    const m = col.length >> 1;
    med[i] = col.length % 2 ? col[m]! : (col[m - 1]! + col[m]!) / 2;
  }
  return frames.map((f) => f.reduce((s, v, i) => s + Math.abs(v - med[i]!), 0) / n);
}

function auc(xs: readonly Scored[]): number {
  const pos = xs.filter((x) => x.inCue).map((x) => x.score);
  const neg = xs.filter((x) => !x.inCue).map((x) => x.score);
  let c = 0;
  for (const p of pos) for (const q of neg) c += p > q ? 1 : p === q ? 0.5 : 0;
  return c / Math.max(1, pos.length * neg.length);
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node dist/bench/cue-visibility.js DATASET.jsonl [...]');
  process.exit(2);
}
for (const rung of ['low', 'high']) {
  const scored: Scored[] = [];
  let size = '';
  for (const file of files) {
    for (const item of await loadDataset(file)) {
      const meta = Cue.parse(item.meta);
      const video = videoPath(file, item);
      const info = await probe(video);
      const r = await getFrames({ video, at: uniformTimes(info.duration, 8), resolution: { ladder: 'tiny', rung }, mode: 'tolerant' });
      size ||= `${r.frames[0]!.width}x${r.frames[0]!.height}`;
      medianDistances(r.frames.map((f) => f.rgb)).forEach((score, k) => {
        const t = r.frames[k]!.timestamp;
        scored.push({ score, inCue: t >= meta.cue.start - 1e-6 && t < meta.cue.end, family: meta.family });
      });
    }
  }
  const cue = scored.filter((s) => s.inCue).length;
  console.log(`rung ${rung} (${size} for the first item): ${scored.length} overview frames, ${cue} inside the cue, AUC ${auc(scored).toFixed(3)}`);
  for (const fam of [...new Set(scored.map((s) => s.family))]) console.log(`  ${fam}: AUC ${auc(scored.filter((s) => s.family === fam)).toFixed(3)}`);
}
