// Can the model read the answer when the evidence is in view? On fresh synthetic items rendered
// in-process (src/train/drills.ts: the cue teacher's looks, the same frames as the real loop up to
// h264 noise), the model writes each turn from the TEACHER's context; the last turn's answer is
// graded by the project's scorer (src/eval/score.ts: option words or letter, time tolerance). Items whose teacher look missed the evidence are counted apart
// (their "right" answer is not in the frames). Per family: answer accuracy with the evidence in
// view, and how often the model's call points at the same frames as the teacher's.
// Usage: node dist/bench/reading.js --checkpoint DIR [--n 60] [--seed 777] [--uniform 24:low]
import { parseArgs } from 'node:util';
import { drillTurns } from '../src/train/drills.js';
import { framesRung } from '../src/train/config.js';
import { createTinyPolicy, loadTiny } from '../src/policy/tiny/index.js';
import { makeItem } from '../datasets/synth/generate.js';
import { parseTurn } from '../src/agent/protocol.js';
import { scoreAnswer } from '../src/eval/score.js';
import type { PolicyInput } from '../src/policy/types.js';

const { values } = parseArgs({ options: { checkpoint: { type: 'string' }, n: { type: 'string', default: '60' }, seed: { type: 'string', default: '777' }, uniform: { type: 'string', default: '' } } });
if (!values.checkpoint) {
  console.error('usage: node dist/bench/reading.js --checkpoint DIR [--n 60] [--seed 777] [--uniform 24:low]');
  process.exit(2);
}
const n = Number(values.n), seed = Number(values.seed);
const uniform = framesRung(values.uniform);
const loaded = loadTiny(values.checkpoint);
const policy = createTinyPolicy({ loaded });
const answerOf = (text: string) => /<answer>([\s\S]*?)<\/answer>/.exec(text)?.[1]?.trim() ?? null;
/** The call's arguments as the agent would run them (times rounded, defaults filled). */
const callOf = (text: string, input: PolicyInput) => {
  const t = parseTurn({ text }, { ladder: 'tiny', duration: input.video.duration, video: input.video, maxFramesPerCall: input.budget.maxFramesPerCall, remainingVisualTokens: 1e9 });
  return t.kind === 'call' ? JSON.stringify(t.call) : null;
};

type Row = { n: number; seen: number; right: number; rightUnseen: number; unseen: number; calls: number; sameCalls: number };
const rows: Record<string, Row> = {};
for (let i = 0; i < n; i++) {
  const { item } = makeItem(seed, 'train', i);
  const drill = await drillTurns(seed, i, uniform ? { uniform } : {});
  const r = (rows[String(item.meta.family)] ??= { n: 0, seen: 0, right: 0, rightUnseen: 0, unseen: 0, calls: 0, sameCalls: 0 });
  r.n++;
  for (const [k, t] of drill.turns.entries()) {
    const out = await policy.step(t.input, {});
    if (k < drill.turns.length - 1) {
      r.calls++;
      if (callOf(out.text, t.input) === callOf(t.text, t.input)) r.sameCalls++;
      continue;
    }
    // Not a string match with the teacher's answer: since option answers are trained as words and
    // times as frame references, the same right answer is often written differently.
    const ok = scoreAnswer(item, answerOf(out.text)).correct;
    if (drill.evidenceSeen === false) (r.unseen++, ok && r.rightUnseen++);
    else (r.seen++, ok && r.right++);
  }
}
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(0)}%` : '-');
console.log(`reading: checkpoint ${values.checkpoint} (${loaded.version}), ${n} rendered items, seed ${seed}${uniform ? `, uniform ${values.uniform}` : ''}`);
console.log('| family | items | answer right, evidence in view | answer right, teacher missed it | calls pointing where the teacher did |');
console.log('|---|---|---|---|---|');
const all: Row = { n: 0, seen: 0, right: 0, rightUnseen: 0, unseen: 0, calls: 0, sameCalls: 0 };
for (const [f, r] of Object.entries(rows).sort()) {
  for (const k of Object.keys(all) as (keyof Row)[]) all[k] += r[k];
  console.log(`| ${f} | ${r.n} | ${pct(r.right, r.seen)} (${r.right}/${r.seen}) | ${pct(r.rightUnseen, r.unseen)} (${r.rightUnseen}/${r.unseen}) | ${pct(r.sameCalls, r.calls)} |`);
}
console.log(`| **all** | ${all.n} | ${pct(all.right, all.seen)} (${all.right}/${all.seen}) | ${pct(all.rightUnseen, all.unseen)} (${all.rightUnseen}/${all.unseen}) | ${pct(all.sameCalls, all.calls)} |`);
