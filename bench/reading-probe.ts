// Can the architecture learn to READ, apart from looking? Each example is a question and only the
// frames that hold its answer (readingContext in src/train/drills.ts), answered in one turn by
// the answer alone. A fresh model of the
// shipped shape is trained on these for each patch stem given, side by side in one run, and its
// exact-match accuracy on held-out items is printed as it learns (teacher-forced argmax of every
// answer token). If a stem cannot learn this, no amount of agent data will teach it to read.
// Every combination of --stems, --cells, --layers and --motion is one model.
// Usage: node dist/bench/reading-probe.js [--families flash-digit,small-code] [--stems 0,16] [--cells 0,256] [--layers 2] [--motion 0,1]
//        [--rung low|high|full] [--close low|high|full]
//        [--view evidence|turn|clip|mixed|cropmix] [--think] [--optionText] [--steps 600] [--train 2000] [--test 200]
//        [--stemCell 7] [--stemStride 0] [--stemPool 1]   (the conv stem's window, step and pooling)
//        [--crop S] [--jitter J]   (the text box alone, S px per glyph pixel, moved by up to J px; cropmix: beside whole frames)
//        [--view point]   (target: the first text box's centre as fractions of the picture, 2 decimals; prints how
//                          many held-out items are pointed within 4 source pixels on both axes, as a region zoom needs;
//                          with --crop S --jitter J: pointed inside that crop, as a second zoom would;
//                          --pointFrom clip: from the teacher's clip turn, the view the agent decides its zoom in)
//        [--view band --jitter J]   (each evidence frame cut to a full-width band of whole patches around the text,
//                          moved by up to J source px up or down, at the full rung: a region zoom pointed roughly)
//        [--pointStep 0.125]   (with --view point: the centre rounded to this grid, a coarse pointer; exact match = the right cell)
//        [--batch 32] [--lr 0.002] [--seed 1] [--threads 1] [--plot FILE.svg]
//        [--turnTarget]   (target: the teacher's whole turn as the shipped recipes teach it; --think adds count's steps)
//        [--init MODEL_DIR]   (fine-tune a trained checkpoint instead of fresh models; measured at step 0 too)
//        [--out DIR]          (with --init: save the fine-tuned model there, loadable by --checkpoint)
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { makeItem } from '../datasets/synth/generate.js';
import { areaResize } from '../datasets/synth/render.js';
import { frameTime, sceneRenderer, type Scene } from '../datasets/synth/scene.js';
import { textSize } from '../datasets/synth/font.js';
import { targetSize, tokensFor } from '../src/video/index.js';
import { Rng } from '../src/nn/rng.js';
import type { DatasetItem } from '../datasets/schema.js';
import { FAMILIES, type Family, type TextBox, type TextPlace } from '../datasets/synth/families.js';
import { AdamW, lrAt, noDecayParams, parseTransformerConfig, TransformerModel } from '../src/nn/index.js';
import { contextFromInput, loadTiny, saveTiny, makeBatch, PATCH_DIM, turnExample, type Example, type TurnContext } from '../src/policy/tiny/index.js';
import { drillTurns, readingContext } from '../src/train/drills.js';
import { optionWords } from '../src/agent/protocol.js';
import { batchAt } from '../src/train/sft.js';
import { Progress } from '../src/cli/common.js';
import { renderPanels } from '../src/train/grpo/plot.js';

const { values } = parseArgs({
  options: {
    families: { type: 'string', default: 'flash-digit,small-code' },
    stems: { type: 'string', default: '0,16' },
    cells: { type: 'string', default: '0' },
    layers: { type: 'string', default: '2' },
    motion: { type: 'string', default: '0' },
    steps: { type: 'string', default: '600' },
    train: { type: 'string', default: '2000' },
    test: { type: 'string', default: '200' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.002' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    evalEvery: { type: 'string', default: '100' },
    plot: { type: 'string', default: '' },
    view: { type: 'string', default: 'evidence' },
    optionText: { type: 'boolean', default: false },
    think: { type: 'boolean', default: false },
    rung: { type: 'string', default: '' },
    close: { type: 'string', default: '' },
    init: { type: 'string', default: '' },
    out: { type: 'string', default: '' },
    turnTarget: { type: 'boolean', default: false },
    crop: { type: 'string', default: '' },
    stemCell: { type: 'string', default: '7' },
    stemStride: { type: 'string', default: '0' },
    stemPool: { type: 'string', default: '1' },
    jitter: { type: 'string', default: '0' },
    pointStep: { type: 'string', default: '0.01' },
    pointFrom: { type: 'string', default: 'evidence' },
  },
});
const families = values.families.split(',') as Family[];
for (const f of families) if (!FAMILIES.includes(f)) throw new Error(`unknown family ${f} (one of ${FAMILIES.join(', ')})`);
const list = (s: string) => s.split(',').map(Number);
// --init: one model, the checkpoint as trained (its shape replaces --stems/--cells/--layers/--motion).
if (values.out && !values.init) throw new Error('--out saves a fine-tuned --init model');
// --stemCell / --stemStride / --stemPool: the conv stem's window, step and pooling (every variant with --stems > 0).
const stemShape = { stemCell: Number(values.stemCell), stemStride: Number(values.stemStride), stemPool: Number(values.stemPool) };
const variants = values.init ? [null] : list(values.stems).flatMap((stemChannels) =>
  list(values.cells).flatMap((patchCells) => list(values.layers).flatMap((nLayers) => list(values.motion).map((m) => ({ stemChannels, patchCells, nLayers, patchMotion: m > 0, ...stemShape })))),
);
const [steps, nTrain, nTest, batchSize, lr, seed, threads, evalEvery] = [values.steps, values.train, values.test, values.batch, values.lr, values.seed, values.threads, values.evalEvery].map(Number) as [number, number, number, number, number, number, number, number];

// evidence: only the frames holding the answer; turn: the teacher's answer turn as the agent
// sees it (test too); clip: the teacher's look before its last, answered there (test too);
// mixed: train on evidence and turns (each item twice), test on turns.
type View = 'evidence' | 'turn' | 'clip' | 'crop' | 'point' | 'band';
// --rung low|high|full: every evidence frame at that rung. --close: the rung small text is shown
// at (default the teacher's, CLOSE_RUNG; --close high gives the views of sessions 3-4).
for (const r of [values.rung, values.close]) if (!['', 'low', 'high', 'full'].includes(r)) throw new Error('--rung and --close are low, high or full');
const viewRungs = { ...(values.rung ? { rung: values.rung } : {}), ...(values.close ? { close: values.close } : {}) };
if (!['evidence', 'turn', 'clip', 'mixed', 'cropmix', 'point', 'band'].includes(values.view)) throw new Error('--view is evidence, turn, clip, mixed, cropmix, point or band');
if (values.view === 'cropmix' && !values.crop) throw new Error('--view cropmix trains on --crop views beside whole frames: set --crop');
if (!['evidence', 'clip'].includes(values.pointFrom) || (values.pointFrom === 'clip' && (values.view !== 'point' || values.crop))) throw new Error('--pointFrom is evidence or clip (clip: with --view point, without --crop)');

/** Item `j` of the families asked for, from suite seed `s` (train split: its own seed per set). */
async function readingItem(s: number, j: number, view: View): Promise<Example | null> {
  const family = families[j % families.length]!;
  const index = Math.floor(j / families.length) * FAMILIES.length + FAMILIES.indexOf(family);
  const { item, scene } = makeItem(s, 'train', index);
  const tag = (e: Example | null) => (e && familyOf.set(e, family), e);
  // --optionText: answer an option question with the option's text (the scorer takes either).
  if (values.optionText && item.options) item.answer = optionWords(item.options[item.answer.charCodeAt(0) - 65]!);
  if (view === 'turn') {
    // The teacher's answer turn as the agent loop shows it: question, history, its last look.
    // Items whose look missed the evidence are skipped: their answer is not in view.
    const drill = await drillTurns(s, index, { teacher: { countSteps: values.think } });
    const last = drill.turns.at(-1)!;
    if (drill.evidenceSeen === false) return null;
    // --think: the whole turn (think + answer, count counting step by step) is the target; its exact match is what greedy decoding writes.
    // --turnTarget: the same without count's steps, the turn the shipped model was taught.
    return tag(values.think || values.turnTarget ? turnExample(contextFromInput(last.input), last.text, tok) : toExample(contextFromInput(last.input), item.answer));
  }
  if (view === 'clip') {
    // The teacher's look before its last (order: the clip, before the zoom), answered at once:
    // can the answer be read there, so that the last look could be skipped?
    const before = (await drillTurns(s, index)).turns.at(-2);
    return before ? tag(toExample(contextFromInput(before.input), item.answer)) : null;
  }
  if (view === 'point') {
    const b = (item.meta as { text?: TextPlace[] }).text?.[0];
    if (!b) throw new Error(`--view point: item ${item.id} (${String(item.meta.family)}) shows no text`);
    const size = textSize(b.text.length, b.cell);
    // With --crop: pointed inside the crop (a second, finer zoom), in fractions of the crop.
    const crop = cropScale ? cropContext(item, scene, s * 100003 + j) : null;
    const w = crop?.windows[0] ?? { x0: 0, y0: 0, cw: scene.width, ch: scene.height };
    const clip = values.pointFrom === 'clip' ? (await drillTurns(s, index)).turns.at(-2) : undefined;
    if (values.pointFrom === 'clip' && !clip) return null;
    const centre = { x: (b.x + size.width / 2 - w.x0) / w.cw, y: (b.y + size.height / 2 - w.y0) / w.ch };
    const step = Number(values.pointStep);
    const grid = (v: number) => (Math.round(v / step) * step).toFixed(2);
    const e = toExample(crop ?? (clip ? contextFromInput(clip.input) : readingContext(item, scene, viewRungs)), `${grid(centre.x)},${grid(centre.y)}`);
    pointOf.set(e, { ...centre, width: w.cw, height: w.ch });
    return tag(e);
  }
  if (view === 'band') return tag(toExample(bandContext(item, scene, s * 100003 + j), item.answer));
  return tag(toExample(view === 'crop' ? cropContext(item, scene, s * 100003 + j) : readingContext(item, scene, viewRungs), item.answer));
}

// --crop S: instead of whole frames, the text box alone (the view a region-zoom tool would
// return), resized so a glyph pixel is S output pixels, padded by 2 glyph pixels and rounded up
// to whole 28-px patches; --jitter J moves the crop by up to J output pixels each way (a zoom that
// points roughly). Tells whether small text fails on finding the text or on reading its glyphs.
const [cropScale, cropJitter] = [Number(values.crop || 0), Number(values.jitter)];
function cropContext(item: DatasetItem, scene: Scene, rngSeed: number): TurnContext & { windows: { x0: number; y0: number; cw: number; ch: number }[] } {
  const rng = new Rng(rngSeed);
  const boxes = (item.meta as { text?: TextBox[] }).text ?? [];
  if (boxes.length === 0) throw new Error(`--crop: item ${item.id} (${String(item.meta.family)}) shows no text`);
  const render = sceneRenderer(scene);
  const windows: { x0: number; y0: number; cw: number; ch: number }[] = [];
  const frames = boxes.map((b) => {
    const k = Math.min(scene.frameCount - 1, Math.floor(((b.from + b.to) / 2) * scene.fps));
    const f = cropScale / b.cell; // output px per source px
    const size = textSize(b.text.length, b.cell);
    // Room for the jitter too, so the text stays whole in view.
    const W = 28 * Math.ceil((size.width * f + 4 * cropScale + 2 * cropJitter) / 28), H = 28 * Math.ceil((size.height * f + 4 * cropScale + 2 * cropJitter) / 28);
    const cw = Math.min(scene.width, Math.round(W / f)), ch = Math.min(scene.height, Math.round(H / f));
    const jx = (rng.uniform() * 2 - 1) * cropJitter / f, jy = (rng.uniform() * 2 - 1) * cropJitter / f;
    const x0 = Math.max(0, Math.min(scene.width - cw, Math.round(b.x + size.width / 2 - cw / 2 + jx)));
    const y0 = Math.max(0, Math.min(scene.height - ch, Math.round(b.y + size.height / 2 - ch / 2 + jy)));
    const full = render(k), src = Buffer.alloc(cw * ch * 3);
    for (let y = 0; y < ch; y++) full.copy(src, y * cw * 3, ((y0 + y) * scene.width + x0) * 3, ((y0 + y) * scene.width + x0 + cw) * 3);
    windows.push({ x0, y0, cw, ch });
    return fullFrame(scene, k, areaResize(src, cw, ch, W, H), { width: W, height: H });
  });
  return { question: item.question, ...(item.options ? { options: item.options } : {}), history: [], mustAnswer: true, frames, windows };
}

/** A cut of frame k as the `full` rung shows it. */
const fullFrame = (scene: Scene, k: number, rgb: Buffer, size: { width: number; height: number }) => ({ timestamp: Math.round(frameTime(scene, k) * 1000) / 1000, ...size, tokens: tokensFor(size), rung: 'full', rgb });

/**
 * --view band: the evidence frames cut to full-width rows around the text (whole patches), moved by
 * up to --jitter px, kept at the source's row count. Not the video layer's `regionCut`: for 148 of
 * 396 bands checked (session 20) its rung sizing floors such a band to half its rows (Qwen's
 * resize, capped at the source's pixels), so a zoom would have to ask for a taller region.
 */
function bandContext(item: DatasetItem, scene: Scene, rngSeed: number): TurnContext {
  const rng = new Rng(rngSeed);
  const boxes = (item.meta as { text?: { y: number; cell: number; text: string }[] }).text ?? [];
  if (boxes.length === 0) throw new Error(`--view band: item ${item.id} (${String(item.meta.family)}) shows no text`);
  const top = Math.min(...boxes.map((b) => b.y)), bottom = Math.max(...boxes.map((b) => b.y + textSize(b.text.length, b.cell).height));
  const ch = Math.min(scene.height, 28 * Math.ceil((bottom - top + 2 * cropJitter + 8) / 28));
  const y0 = Math.max(0, Math.min(scene.height - ch, Math.round((top + bottom) / 2 - ch / 2 + (rng.uniform() * 2 - 1) * cropJitter)));
  const size = targetSize({ width: scene.width, height: ch }, { ladder: 'tiny', rung: 'full' });
  const render = sceneRenderer(scene);
  const frames = (item.evidence ?? []).map((e) => {
    const k = Math.min(scene.frameCount - 1, Math.floor(((e.start + e.end) / 2) * scene.fps + 1e-6));
    const band = render(k).subarray(y0 * scene.width * 3, (y0 + ch) * scene.width * 3);
    return fullFrame(scene, k, areaResize(Buffer.from(band), scene.width, ch, size.width, size.height), size);
  });
  return { question: item.question, ...(item.options ? { options: item.options } : {}), history: [], mustAnswer: true, frames };
}

const familyOf = new WeakMap<Example, Family>();
/** --view point: the true centre (fractions) and the source size, to measure pointing error in pixels. */
const pointOf = new WeakMap<Example, { x: number; y: number; width: number; height: number }>();
/** --view point: how far the pointing lands, summed over items: within 4 source px on both axes, and the max-axis error. */
interface Pointing {
  within4: number;
  n: number;
  sumPx: number;
}
// The shipped model's vocabulary: the protocol, the suite's questions, options and answers.
// --init: its weights are read once here, for its vocabulary and for the model fine-tuned below.
const initModel = values.init ? loadTiny(values.init) : null;
const tok = (initModel ?? loadTiny()).tokenizer;
const text = (a: string) => `<answer>${a}</answer>`;
const toExample = (ctx: TurnContext, answer: string): Example => turnExample(ctx, text(answer), tok);
const t0 = performance.now();
const build = async (s: number, n: number, views: View[]) => {
  const out: Example[] = [];
  for (let j = 0; out.length < n * views.length; j++) {
    const es = await Promise.all(views.map((v) => readingItem(s, j, v)));
    if (es.every((e) => e)) out.push(...(es as Example[]));
  }
  return out;
};
// cropmix: train on the text cropped and on the whole frame (each item twice), test on whole frames.
const testView: View = values.view === 'point' || values.view === 'band' ? values.view : values.view === 'evidence' ? (cropScale ? 'crop' : 'evidence') : values.view === 'cropmix' ? 'evidence' : values.view === 'clip' ? 'clip' : 'turn';
const data = { train: await build(seed * 1000 + 11, nTrain, values.view === 'mixed' ? ['evidence', 'turn'] : values.view === 'cropmix' ? ['crop', 'evidence'] : [testView]), test: await build(seed * 1000 + 12, nTest, [testView]) };
const maxSeq = Math.max(...[...data.train, ...data.test].map((e) => e.items.length + e.target.length)) + 2;
console.log(`reading probe: view ${values.view}${values.view === 'point' ? ` (grid ${values.pointStep}, from ${values.pointFrom === 'clip' ? 'the clip turn' : 'the evidence frames'})` : ''}${cropScale ? ` cropped to the text at ${cropScale} px per glyph pixel, jitter ${cropJitter} px` : ''}${values.rung ? ` at rung ${values.rung}` : ''}${values.close ? `, small text at ${values.close}` : ''}${values.optionText ? ' (options answered by text)' : ''}${values.think ? ' (target: the whole turn, count step by step)' : values.turnTarget ? ' (target: the whole turn)' : ''}${values.init ? `, from ${values.init}` : ''}, families ${families.join(',')}, ${nTrain} train / ${nTest} test items (suite seeds ${seed * 1000 + 11} / ${seed * 1000 + 12}), ${steps} steps x batch ${batchSize}, lr ${lr}, seed ${seed}, threads ${threads}; data ${((performance.now() - t0) / 1000).toFixed(1)} s, maxSeq ${maxSeq}`);

/** Exact match of every answer token under teacher forcing: overall, and per family in `byFamily`. */
async function accuracy(model: TransformerModel, examples: readonly Example[], byFamily?: Map<string, [number, number]>, pointing?: Pointing): Promise<number> {
  let right = 0;
  const V = model.config.vocabSize;
  for (let i = 0; i < examples.length; i += 64) {
    const b = makeBatch(examples.slice(i, i + 64), model.config.maxSeq);
    const logits = await model.logits(b);
    for (let r = 0; r < b.batch; r++) {
      let ok = true;
      const argmax: number[] = [];
      for (let t = 0; t < b.seq; t++) {
        const k = r * b.seq + t;
        if (!b.lossMask[k]) continue;
        let best = 0;
        for (let v = 1; v < V; v++) if (logits[k * V + v]! > logits[k * V + best]!) best = v;
        argmax.push(best);
        ok &&= best === b.targets[k];
      }
      const truth = pointOf.get(examples[i + r]!);
      if (truth && pointing) {
        // Teacher-forced argmax of each digit: the pointing a greedy decoder would write when the earlier digits are right.
        const [px, py] = (tok.decode(argmax).match(/\d+\.\d+/g) ?? []).map(Number);
        const ex = px === undefined ? Infinity : Math.abs(px - truth.x) * truth.width, ey = py === undefined ? Infinity : Math.abs(py - truth.y) * truth.height;
        pointing.n++;
        if (ex <= 4 && ey <= 4) pointing.within4++;
        // Capped, so an unparsed answer counts as a far miss rather than as infinity.
        pointing.sumPx += Math.min(100, Math.max(ex, ey));
      }
      if (ok) right++;
      const f = familyOf.get(examples[i + r]!) ?? '?';
      const c = byFamily?.get(f) ?? [0, 0];
      byFamily?.set(f, [c[0] + (ok ? 1 : 0), c[1] + 1]);
    }
  }
  return right / examples.length;
}

const curves: Record<string, { step: number; train: number; test: number }[]> = {};
for (const v of variants) {
  const model = v ? TransformerModel.init(parseTransformerConfig({ vocabSize: tok.size, dModel: 128, nHeads: 4, dFF: 512, maxSeq, patchDim: PATCH_DIM, timeFeatures: 16, patchTokens: true, ...v }), seed, { threads }) : new TransformerModel(initModel!.model.config, initModel!.model.params, { threads });
  const config = model.config;
  if (maxSeq > config.maxSeq) throw new Error(`examples need ${maxSeq} positions, the model at ${values.init} has ${config.maxSeq}`);
  const opt = new AdamW({ lr, weightDecay: 0.05, clipNorm: 1, noDecay: new Set([...noDecayParams(config), 'tok_emb']) });
  const name = !v ? `init ${values.init}` : [v.stemChannels ? `conv stem ${v.stemChannels}x${config.stemCell}px${config.stemStride ? ` step ${config.stemStride} pool ${config.stemPool}` : ''}` : 'linear stem', ...(v.patchCells ? [`cells ${v.patchCells}`] : []), ...(v.patchMotion ? ['motion'] : []), `${v.nLayers} layers`].join(', ');
  const curve: (typeof curves)[string] = (curves[name] = []);
  // A trained checkpoint is measured before its first step, so the fine-tune's gain shows.
  if (!v) curve.push({ step: 0, train: await accuracy(model, data.train.slice(-nTest)), test: await accuracy(model, data.test) });
  const progress = new Progress(name, steps);
  const s0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    const batch = makeBatch(batchAt(seed, step - 1, batchSize, data.train.length).map((i) => data.train[i]!), config.maxSeq);
    const res = await model.lossAndGrads(batch);
    opt.update(model.params, res.grads, lrAt(step - 1, { baseLr: lr, warmupSteps: 50, totalSteps: steps, decay: 'cosine', minRatio: 0.05 }));
    if (step % evalEvery === 0 || step === steps) {
      const pointing: Pointing = { within4: 0, n: 0, sumPx: 0 };
      const row = { step, train: await accuracy(model, data.train.slice(-nTest)), test: await accuracy(model, data.test, undefined, pointing) };
      curve.push(row);
      const pointed = pointing.n ? ` pointed within 4 px ${((100 * pointing.within4) / pointing.n).toFixed(0)}%, mean max-axis error ${(pointing.sumPx / pointing.n).toFixed(1)} px (capped at 100)` : '';
      progress.tick(step, `loss ${res.loss.toFixed(3)} train ${(100 * row.train).toFixed(0)}% test ${(100 * row.test).toFixed(0)}%${pointed}`);
    }
  }
  const byFamily = new Map<string, [number, number]>();
  await accuracy(model, data.test, byFamily);
  console.log(`${name}, held-out by family: ${[...byFamily].map(([f, [r, n]]) => `${f} ${((100 * r) / n).toFixed(0)}% (${r}/${n})`).join(', ')}`);
  console.log(`${name}: ${((performance.now() - s0) / steps).toFixed(0)} ms/step, ${Object.values(model.params).reduce((n, p) => n + p.length, 0)} parameters`);
  if (!v && values.out) {
    saveTiny(values.out, model, tok, { meta: { probe: { init: values.init, families, steps, lr, seed, nTrain, view: values.view } } });
    console.log(`saved: ${values.out}`);
  }
  await model.release();
}

const names = Object.keys(curves);
console.log(`\n| step | ${names.map((n) => `${n} (train / test)`).join(' | ')} |\n|---|${names.map(() => '---|').join('')}`);
for (let i = 0; i < curves[names[0]!]!.length; i++) {
  console.log(`| ${curves[names[0]!]![i]!.step} | ${names.map((n) => `${(100 * curves[n]![i]!.train).toFixed(0)}% / ${(100 * curves[n]![i]!.test).toFixed(0)}%`).join(' | ')} |`);
}
if (values.plot) {
  const title = `bench:reading-probe view ${values.view}${cropScale ? ` crop ${cropScale} jitter ${cropJitter}` : ''}${values.rung ? ` rung ${values.rung}` : ''}${values.close ? ` close ${values.close}` : ''}${values.optionText ? ' optionText' : ''}${values.think ? ' think' : values.turnTarget ? ' turnTarget' : ''}, families ${families.join(',')}, ${nTrain}/${nTest} items, ${steps} steps x ${batchSize}, lr ${lr}, seed ${seed}`;
  const panels = names.map((n) => ({
    title: `${n}: exact-match accuracy`,
    series: [
      { points: curves[n]!.map((c) => [c.step, c.train] as const), color: '#1f77b4', label: 'train items' },
      { points: curves[n]!.map((c) => [c.step, c.test] as const), color: '#d62728', label: 'held-out items' },
    ],
  }));
  writeFileSync(values.plot, renderPanels(title, panels));
  writeFileSync(values.plot.replace(/\.svg$/, '') + '.json', JSON.stringify({ title, curves }, null, 2));
  console.log(`plot: ${values.plot}`);
}
