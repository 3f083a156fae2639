// Does the cue teacher's view hold the answer? On synthetic items rendered in-process (the same
// looks as the real loop, src/train/drills.ts), per family: how often the frames of the teacher's
// first look (the clip after the overview), of its last view (what the answer turn sees: the
// embedded model sees only the latest evidence) and of all its looks together cover every
// evidence interval, and how often its answer scores right. A label the last view does not cover
// teaches a guess.
// Usage: node dist/bench/teacher-coverage.js [--n 600] [--seed 901] [--families count,order]
import { parseArgs } from 'node:util';
import { drillTurns } from '../src/train/drills.js';
import { makeItem } from '../datasets/synth/generate.js';
import { FAMILIES } from '../datasets/synth/families.js';
import { evidenceRecall } from '../src/eval/evidence.js';
import { scoreAnswer } from '../src/eval/score.js';
import { inputLimits, parseTurn } from '../src/agent/protocol.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '600' }, seed: { type: 'string', default: '901' }, families: { type: 'string', default: '' } } });
const n = Number(values.n), seed = Number(values.seed);
const wanted = values.families ? values.families.split(',') : [...FAMILIES];
const unknown = wanted.filter((f) => !(FAMILIES as readonly string[]).includes(f));
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(seed) || unknown.length) {
  console.error(`usage: node dist/bench/teacher-coverage.js [--n 600] [--seed 901] [--families ${FAMILIES.join(',')}]${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  process.exit(2);
}

interface Tally { items: number; first: number; last: number; all: number; right: number; turns: number; tokens: number }
const tally = new Map<string, Tally>(wanted.map((f) => [f, { items: 0, first: 0, last: 0, all: 0, right: 0, turns: 0, tokens: 0 }]));
const t0 = performance.now();
// Items cycle through the families (generate.ts), so only every sixth index is of a given family.
const indices = Array.from({ length: n }, (_, i) => i).filter((i) => wanted.includes(FAMILIES[i % FAMILIES.length]!));
for (const [k, i] of indices.entries()) {
  const { item } = makeItem(seed, 'train', i);
  const { turns, evidenceSeen } = await drillTurns(seed, i);
  const t = tally.get(String(item.meta.family))!;
  const covers = (turn: number) => (turns[turn] ? evidenceRecall(turns[turn].input.evidence, item.evidence) === true : false);
  t.items++;
  t.first += Number(covers(1));
  t.last += Number(covers(turns.length - 1));
  t.all += Number(evidenceSeen === true);
  // The teacher's own answer, graded as the model's would be (a `when` time it copies from a frame may miss the tolerance).
  const last = turns.at(-1)!;
  const parsed = parseTurn({ text: last.text }, inputLimits(last.input), last.input.turn.mustAnswer);
  t.right += Number(scoreAnswer(item, parsed.kind === 'answer' ? parsed.answer : null).correct);
  t.turns += turns.length;
  t.tokens += last.input.budget.usedVisualTokens;
  if ((k + 1) % 50 === 0) {
    const s = (performance.now() - t0) / 1000;
    console.error(`${k + 1}/${indices.length} items, ${s.toFixed(0)} s, ETA ${((s / (k + 1)) * (indices.length - k - 1)).toFixed(0)} s`);
  }
}

const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;
console.log(`teacher coverage: ${indices.length} rendered items (train split of suite seed ${seed}, indices < ${n})`);
console.log('| family | items | first look covers | last view covers | all looks cover | answer scores right | turns | visual tokens |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [f, t] of tally) {
  if (!t.items) continue;
  console.log(`| ${f} | ${t.items} | ${pct(t.first, t.items)} | ${pct(t.last, t.items)} | ${pct(t.all, t.items)} | ${pct(t.right, t.items)} | ${(t.turns / t.items).toFixed(2)} | ${(t.tokens / t.items).toFixed(1)} |`);
}
