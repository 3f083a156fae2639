// Cost of guided decoding per candidate token: the guide re-checks the whole turn so far plus one
// candidate, for every token id the sampler may pick (the embedded model's vocabulary), at each
// generated token. Prints microseconds per check at three places in a turn (inside the think, inside
// a call's arguments, inside an option answer) and the implied milliseconds per sampled token.
// Usage: node dist/bench/guide.js [--checks 20000] [--vocab 299]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { optionAnswers, turnGuide } from '../src/agent/guide.js';
import { toolSpecs } from '../prompts/index.js';

const { values } = parseArgs({ options: { checks: { type: 'string', default: '20000' }, vocab: { type: 'string', default: '299' } } });
const checks = Number(values.checks), vocab = Number(values.vocab);
if (!Number.isInteger(checks) || checks < 1 || !Number.isInteger(vocab) || vocab < 1) {
  console.error('usage: node dist/bench/guide.js [--checks 20000] [--vocab 299]');
  process.exit(2);
}

const tools = toolSpecs('tiny');
const think = `<think>${'the digit flashes near the end so I look closer at the moment it shows '.repeat(3)}`;
const places: { name: string; guide: ReturnType<typeof turnGuide>; prefix: string; candidate: string }[] = [
  { name: 'think', guide: turnGuide(tools), prefix: think, candidate: ' word' },
  { name: 'call arguments', guide: turnGuide(tools), prefix: `${think}</think><tool_call>{"name": "get_clip", "arguments": {"start": 1.5, "end": 3`, candidate: '1' },
  { name: 'option answer', guide: turnGuide([], undefined, optionAnswers(['red', 'green', 'blue'])), prefix: `${think}</think><answer>gr`, candidate: 'een' },
];

const rows = places.map((p) => {
  let ok = 0;
  for (let i = 0; i < Math.min(1000, checks); i++) ok += p.guide.ok(p.prefix + p.candidate) ? 1 : 0; // warm-up
  const t0 = performance.now();
  for (let i = 0; i < checks; i++) ok += p.guide.ok(p.prefix + p.candidate) ? 1 : 0;
  const us = ((performance.now() - t0) * 1000) / checks;
  return { place: p.name, chars: p.prefix.length, accepted: ok > 0, usPerCheck: Math.round(us * 100) / 100, msPerSampledToken: Math.round(us * vocab) / 1000 };
});
console.log(JSON.stringify({ machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, node: process.version }, checks, vocab, rows }, null, 2));
