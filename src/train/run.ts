/**
 * Run-folder utilities shared by every trainer (SFT now, DRFS-GRPO next). A run folder holds:
 *
 *   config.json        the resolved config (after defaults, config file and flags), plus versions
 *   metrics.jsonl      one JSON object per logged step / evaluation ({step, kind, ...numbers})
 *   plot.svg           every numeric metric series against the step, refreshed while training
 *   checkpoints/step-NNNNNN/   model + optimizer + RNG + trainer state (the newest `keep` are kept)
 *   best/              the checkpoint with the best validation score so far
 *   final/             the last weights when the run finished
 *
 * Typical trainer:
 *
 *   const run = await TrainRun.open({ dir, config, resume, keep: 3 });
 *   const state = run.resumeFrom();               // undefined on a fresh run, else the newest checkpoint dir
 *   run.onStop(() => save(...));                  // SIGINT / SIGTERM: checkpoint, then exit(130/143)
 *   for (...) { run.log({ step, kind: "train", loss }); if (run.due(step, every)) run.checkpoint(step, (dir) => save(dir)); }
 *   run.finish();
 *
 * Saving is the trainer's (it knows its model and state); the run decides where and when, keeps
 * the folder tidy, and writes files atomically so a killed process can always resume.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, cpSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../nn/index.js";
import { FramemindError } from "../errors.js";

export interface MetricRow {
  step: number;
  /** "train", "val", "eval", ...: one series per (kind, key) in the plot. */
  kind: string;
  [key: string]: number | string | undefined;
}

export interface OpenOptions {
  dir: string;
  /** Resolved config, written as config.json (on resume it must match, except the listed keys). */
  config: Record<string, unknown>;
  resume?: boolean;
  /** Checkpoints kept besides best/ and final/. */
  keep?: number;
}

const CKPT = "checkpoints";
const stepName = (step: number) => `step-${String(step).padStart(6, "0")}`;

export class TrainRun {
  private stopHandlers: Array<() => void | Promise<void>> = [];
  private stopping = false;
  private signalHandler?: (sig: NodeJS.Signals) => void;
  private plotTimer = 0;
  readonly keep: number;

  private constructor(readonly dir: string, keep: number) {
    this.keep = keep;
  }

  /** Creates (or, with resume, reopens) a run folder and writes config.json. */
  static open(o: OpenOptions): TrainRun {
    const dir = resolve(o.dir);
    const run = new TrainRun(dir, o.keep ?? 3);
    if (!o.resume && existsSync(join(dir, "metrics.jsonl"))) {
      throw new FramemindError("FM_ERR_TRAIN_CONFIG", { reason: `run folder ${dir} already has metrics; pass --resume ${dir} to continue it, or choose another --out` });
    }
    mkdirSync(join(dir, CKPT), { recursive: true });
    writeFileAtomic(join(dir, "config.json"), JSON.stringify({ ...o.config, versions: { node: process.version, platform: `${process.platform}-${process.arch}` } }, null, 2) + "\n");
    return run;
  }

  /** Newest checkpoint folder, if any (the point a resumed run continues from). */
  latestCheckpoint(): string | undefined {
    const root = join(this.dir, CKPT);
    if (!existsSync(root)) return undefined;
    const names = readdirSync(root).filter((n) => /^step-\d+$/.test(n)).sort();
    return names.length ? join(root, names[names.length - 1]!) : undefined;
  }

  /** Drops metric rows logged after `step` (they will be logged again, identically, after resume). */
  truncateMetrics(step: number): void {
    const file = join(this.dir, "metrics.jsonl");
    if (!existsSync(file)) return;
    const keep = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.trim() && (JSON.parse(l) as MetricRow).step <= step);
    writeFileAtomic(file, keep.map((l) => l + "\n").join(""));
  }

  log(row: MetricRow): void {
    appendFileSync(join(this.dir, "metrics.jsonl"), JSON.stringify(row) + "\n");
    // The plot is cheap but not free: refresh it at most every 5 s.
    const now = Date.now();
    if (now - this.plotTimer > 5000) {
      this.plotTimer = now;
      this.writePlot();
    }
  }

  metrics(): MetricRow[] {
    const file = join(this.dir, "metrics.jsonl");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as MetricRow);
  }

  /** True every `every` steps (step counted from 1). */
  due(step: number, every: number): boolean {
    return every > 0 && step > 0 && step % every === 0;
  }

  /** Saves a checkpoint with `save(dir)` and prunes all but the newest `keep`. */
  checkpoint(step: number, save: (dir: string) => void): string {
    const dir = join(this.dir, CKPT, stepName(step));
    save(dir);
    const root = join(this.dir, CKPT);
    const names = readdirSync(root).filter((n) => /^step-\d+$/.test(n)).sort();
    for (const n of names.slice(0, Math.max(0, names.length - this.keep))) rmSync(join(root, n), { recursive: true, force: true });
    return dir;
  }

  /** Copies a saved checkpoint to best/ (or another named slot). */
  promote(from: string, slot = "best"): string {
    const to = join(this.dir, slot);
    const tmp = `${to}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    cpSync(from, tmp, { recursive: true });
    rmSync(to, { recursive: true, force: true });
    cpSync(tmp, to, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    return to;
  }

  /** Registers work to do on SIGINT / SIGTERM (save a checkpoint) before the process exits. */
  onStop(fn: () => void | Promise<void>): void {
    this.stopHandlers.push(fn);
    if (this.signalHandler) return;
    this.signalHandler = (sig) => {
      if (this.stopping) return;
      this.stopping = true;
      process.stderr.write(`\n${sig}: saving a checkpoint before exit\n`);
      void (async () => {
        for (const h of this.stopHandlers) await h();
        this.writePlot();
        process.exit(sig === "SIGINT" ? 130 : 143);
      })();
    };
    process.on("SIGINT", this.signalHandler);
    process.on("SIGTERM", this.signalHandler);
  }

  /** True once a stop signal arrived (loops check it to stop between steps). */
  get stopRequested(): boolean {
    return this.stopping;
  }

  finish(): void {
    this.writePlot();
    if (this.signalHandler) {
      process.off("SIGINT", this.signalHandler);
      process.off("SIGTERM", this.signalHandler);
      this.signalHandler = undefined;
    }
  }

  writePlot(): void {
    writeFileAtomic(join(this.dir, "plot.svg"), renderPlot(this.metrics()));
  }
}

/** Small multiples: one panel per (kind, metric) series, step on x. No dependencies. */
export function renderPlot(rows: readonly MetricRow[], skip: readonly string[] = ["step", "kind", "epoch", "ms", "feedMs", "runMs"]): string {
  const series = new Map<string, Array<[number, number]>>();
  for (const r of rows) {
    for (const [k, v] of Object.entries(r)) {
      if (skip.includes(k) || typeof v !== "number" || !Number.isFinite(v)) continue;
      const name = `${r.kind}.${k}`;
      let s = series.get(name);
      if (!s) series.set(name, (s = []));
      s.push([r.step, v]);
    }
  }
  const W = 320, H = 170, pad = 34, cols = 3;
  const names = [...series.keys()].sort();
  const rowsN = Math.max(1, Math.ceil(names.length / cols));
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W * cols}" height="${H * rowsN}" font-family="sans-serif" font-size="11">`, `<rect width="100%" height="100%" fill="white"/>`];
  names.forEach((name, i) => {
    const pts = series.get(name)!;
    const x0 = (i % cols) * W, y0 = Math.floor(i / cols) * H;
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const [xmin, xmax] = [Math.min(...xs), Math.max(...xs)];
    const [ymin, ymax] = [Math.min(...ys), Math.max(...ys)];
    const sx = (x: number) => x0 + pad + ((x - xmin) / (xmax - xmin || 1)) * (W - pad - 10);
    const sy = (y: number) => y0 + H - 22 - ((y - ymin) / (ymax - ymin || 1)) * (H - 50);
    const path = pts.map((p, k) => `${k ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
    const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));
    out.push(
      `<text x="${x0 + pad}" y="${y0 + 16}" font-weight="bold">${name} (last ${fmt(ys[ys.length - 1]!)})</text>`,
      `<text x="${x0 + 2}" y="${y0 + 32}">${fmt(ymax)}</text><text x="${x0 + 2}" y="${y0 + H - 22}">${fmt(ymin)}</text>`,
      `<text x="${x0 + pad}" y="${y0 + H - 6}">${xmin}</text><text x="${x0 + W - 40}" y="${y0 + H - 6}">${xmax}</text>`,
      `<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
