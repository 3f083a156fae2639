/**
 * `npm run bench:video`: the video layer's two decoders (the ffmpeg CLI path, and the in-process
 * libav addon when it is installed) against a naive wrapper, the ffmpeg CLI floor and the
 * in-process peer (PyAV), side by side in one run, on a generated 120 s 1280x720 30 fps h264 video
 * with a keyframe every 60 frames. Prints a table (medians of repeats, ratios to naive and to
 * PyAV) and writes bench-results/video.json and bench-results/video.svg.
 *
 * Usage: node dist/bench/video.js [--repeats N] [--cache-dir DIR] [--out DIR]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Progress } from "../src/cli/common.js";
import {
  binaries,
  binaryVersion,
  decoderStatus,
  decodeSpan,
  encodeVideo,
  frameSize,
  getClip,
  getFrames,
  naiveFrames,
  probe,
  setDecodeTuning,
  setDecoder,
  spreadTimes,
  tokensFor,
  uniformTimes,
  type Region,
  type Resolution,
} from "../src/video/index.js";

const W = 1280;
const H = 720;
const FPS = 30;
const SECONDS = 120;
const GOP = 60;
const INDEX_ROWS = H / 4;

/** Frame n: its index as 10 bars in the top quarter, a scrolling block texture below (so decoding costs what real video costs). */
function* benchFrames(progress: Progress): Generator<Buffer> {
  const tex = Buffer.alloc(2 * W * H * 3);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (let by = 0; by < H; by += 8)
    for (let bx = 0; bx < 2 * W; bx += 8) {
      const c = [rnd(), rnd(), rnd()];
      for (let y = by; y < by + 8; y++) for (let x = bx; x < bx + 8; x++) for (let k = 0; k < 3; k++) tex[(y * 2 * W + x) * 3 + k] = (c[k]! + ((x + y) & 63)) & 255;
    }
  const frameCount = SECONDS * FPS;
  for (let n = 0; n < frameCount; n++) {
    const f = Buffer.alloc(W * H * 3);
    const shift = (n * 6) % W;
    for (let y = INDEX_ROWS; y < H; y++) tex.copy(f, y * W * 3, (y * 2 * W + shift) * 3, (y * 2 * W + shift + W) * 3);
    for (let x = 0; x < W; x++) {
      const v = (n >> Math.floor((x * 10) / W)) & 1 ? 235 : 16;
      for (let y = 0; y < INDEX_ROWS; y++) f.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
    if (n % 30 === 0) progress.tick(n);
    yield f;
  }
  progress.tick(frameCount);
}

async function ensureVideo(dir: string): Promise<string> {
  const out = join(dir, `bench_${SECONDS}s_${W}x${H}_${FPS}fps_gop${GOP}.mp4`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`generating ${out} (once)\n`);
  await encodeVideo({ out, width: W, height: H, fps: FPS, codec: "h264", gop: GOP, frames: benchFrames(new Progress("encode", SECONDS * FPS)), timeoutMs: 30 * 60_000 });
  return out;
}

interface Row {
  name: string;
  what: string;
  samplesMs: number[];
  medianMs: number;
  frames: number;
}

/** The frame index drawn in the top quarter (10 bars), read at an eighth of the height. */
function readTopIndex(rgb: Buffer, w: number, h: number): number {
  let n = 0;
  for (let k = 0; k < 10; k++) if (rgb[(Math.floor(h / 8) * w + Math.floor(((k + 0.5) * w) / 10)) * 3]! > 128) n |= 1 << k;
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Case {
  name: string;
  what: string;
  frames: number;
  /** Resolves to a number when the case times itself (in-process time of another runtime). */
  run: () => Promise<unknown>;
}

/** Round-robin over the cases, one run each per repeat: load from other jobs drifts over all cases alike. */
async function measureAll(cases: Case[], repeats: number, progress: Progress): Promise<Row[]> {
  const samples = cases.map(() => [] as number[]);
  let done = 0;
  for (let i = 0; i < repeats; i++) {
    for (const [k, c] of cases.entries()) {
      const t0 = performance.now();
      const own = await c.run();
      samples[k]!.push(typeof own === "number" ? own : performance.now() - t0);
      progress.tick(++done, c.name);
    }
  }
  return cases.map((c, k) => ({ name: c.name, what: c.what, frames: c.frames, samplesMs: samples[k]!.map(r2), medianMs: r2(median(samples[k]!)) }));
}

const r2 = (x: number) => Math.round(x * 100) / 100;

interface PyavRun {
  ok: boolean;
  note?: string;
  version?: string;
  ms?: number;
  frames?: number[];
}

const PYAV_SCRIPT = String.raw`
import json, sys, time
try:
    import av
except Exception as e:
    print(json.dumps({"ok": False, "note": "python3-av does not import: %s" % e})); sys.exit(0)
path, times, w, h, exact = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "exact"

def frame_at(c, s, t):
    c.seek(int(t / s.time_base), stream=s, backward=True, any_frame=False)
    last = None
    for f in c.decode(s):
        if not exact:
            return f
        if f.time is not None and f.time > t + 1e-4:
            return last if last is not None else f
        last = f
    return last

t0 = time.perf_counter()
got = []
with av.open(path) as c:
    s = c.streams.video[0]
    for t in times:
        rgb = frame_at(c, s, t).to_ndarray(width=w, height=h, format="rgb24")
        got.append(int(sum(1 << k for k in range(10) if rgb[h // 8, int((k + 0.5) * w / 10), 0] > 128)))
ms = (time.perf_counter() - t0) * 1000
print(json.dumps({"ok": True, "version": av.__version__, "ms": ms, "frames": got}))
`;

/**
 * PyAV under Debian's own python3 (the python3 first on PATH may be another interpreter): open the
 * file once, seek to each timestamp (keyframe, or decode on to the frame shown at t), RGB at the
 * rung size. Timed inside Python, so interpreter start and `import av` are not counted.
 */
function pyavOnce(video: string, times: number[], size: { width: number; height: number }, mode: "keyframe" | "exact"): PyavRun {
  const py = "/usr/bin/python3";
  if (!existsSync(py)) return { ok: false, note: `${py} not found` };
  const r = spawnSync(py, ["-c", PYAV_SCRIPT, video, JSON.stringify(times), String(size.width), String(size.height), mode], { encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) return { ok: false, note: `python3 failed: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()}` };
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as PyavRun;
  } catch {
    return { ok: false, note: "could not parse PyAV output" };
  }
}

function svgChart(rows: Row[], title: string): string {
  const barH = 22;
  const left = 330;
  const width = 900;
  const max = Math.max(...rows.map((r) => r.medianMs), 1);
  const scale = (width - left - 90) / max;
  const bars = rows
    .map((r, i) => {
      const y = 40 + i * (barH + 8);
      const w = Math.max(1, r.medianMs * scale);
      const fill = r.name.startsWith("libav") ? "#2f9e44" : r.name.startsWith("cli") || r.name.startsWith("cached") ? "#2f7ed8" : "#999";
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${escapeXml(r.name)}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill}"/><text x="${(left + w + 6).toFixed(1)}" y="${y + 15}" font-size="12">${r.medianMs.toFixed(1)} ms</text>`;
    })
    .join("\n");
  const height = 40 + rows.length * (barH + 8) + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="10" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>\n${bars}\n</svg>\n`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

async function main(): Promise<void> {
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const { values } = parseArgs({ options: { repeats: { type: "string" }, "cache-dir": { type: "string" }, out: { type: "string" } } });
  const repeats = Math.max(1, Number(values.repeats ?? 5));
  const video = await ensureVideo(values["cache-dir"] ?? ".framemind-cache/bench");
  const outDir = values.out ?? "bench-results";
  const info = await probe(video);
  const resolution: Resolution = { ladder: "qwen", rung: "low" };
  const high: Resolution = { ladder: "qwen", rung: "high" };
  const zoom: Region = [0.25, 0.25, 0.75, 0.75];
  const zoomTokens = { whole: 8 * tokensFor(frameSize(info, high)), region: 8 * tokensFor(frameSize(info, high, zoom)) };
  const overview = uniformTimes(info.duration, 8);
  const span = { start: 50, end: 60 };
  const spanTimes = spreadTimes(span.start, span.end, 8);
  const ffmpeg = binaryVersion(binaries().ffmpeg);

  const opts = { noCache: true };
  const decoder = decoderStatus();
  // Both decoders of the video layer, each case pinned to one (the in-process one only when installed).
  const paths: Array<{ tag: string; choice: "cli" | "libav"; what: string }> = [{ tag: "cli", choice: "cli", what: "ffmpeg CLI path" }];
  if (decoder.active) paths.push({ tag: "libav", choice: "libav", what: "in-process libav addon" });
  const pinned = (choice: "cli" | "libav", run: () => Promise<unknown>) => () => {
    setDecoder(choice);
    return run();
  };
  const cases: Case[] = [
    { name: "naive 8 frames", what: "8 ffmpeg spawns, accurate seek, PNG out, sequential", frames: 8, run: () => naiveFrames(video, overview) },
    { name: "floor: 1 frame, 1 process", what: "one ffmpeg process: seek + decode one frame", frames: 1, run: () => decodeSpan(video, { start: 60, frames: 1 }) },
    { name: "span decode 10 s", what: "one ffmpeg process decoding every frame of [50, 60] s", frames: 300, run: () => decodeSpan(video, { start: span.start, length: span.end - span.start }) },
    ...paths.flatMap(({ tag, choice, what }): Case[] => [
      { name: `${tag} tolerant 8 over 120 s`, what: `${what}: getFrames tolerant, uniform overview`, frames: 8, run: pinned(choice, () => getFrames({ video, at: overview, resolution, mode: "tolerant" }, opts)) },
      { name: `${tag} exact 8 over 120 s`, what: `${what}: getFrames exact, uniform overview`, frames: 8, run: pinned(choice, () => getFrames({ video, at: overview, resolution, mode: "exact" }, opts)) },
      { name: `${tag} exact 8 in 10 s`, what: `${what}: getFrames exact, 8 frames over [50, 60] s`, frames: 8, run: pinned(choice, () => getFrames({ video, at: spanTimes, resolution, mode: "exact" }, opts)) },
      { name: `${tag} clip 16 in 10 s`, what: `${what}: getClip 16 frames over [50, 60] s`, frames: 16, run: pinned(choice, () => getClip({ video, start: span.start, end: span.end, count: 16, resolution }, opts)) },
    ]),
    { name: "cached repeat", what: "the same exact request again (memory cache; no decoder involved)", frames: 8, run: () => getFrames({ video, at: overview, resolution, mode: "exact" }) },
    // A zoom on the centre quarter decodes the whole frame at twice the crop's size, then copies the crop out.
    { name: "exact 8 at high", what: `getFrames exact, uniform overview, qwen high (${zoomTokens.whole} tokens)`, frames: 8, run: () => getFrames({ video, at: overview, resolution: high, mode: "exact" }, opts) },
    { name: "exact 8 at high, region", what: `the same zoomed on the centre quarter, region ${JSON.stringify(zoom)} (${zoomTokens.region} tokens)`, frames: 8, run: () => getFrames({ video, at: overview, resolution: high, mode: "exact", region: zoom }, opts) },
  ];
  // Warm the probe cache (PyAV, too, opens the file once) and the frame cache for the cached case;
  // read the frames back from both decoders.
  const readBack: Record<string, number[]> = {};
  let size = { width: 0, height: 0 };
  for (const { tag, choice } of paths) {
    setDecoder(choice);
    const r = await getFrames({ video, at: overview, resolution, mode: "exact" }, opts);
    size = { width: r.width, height: r.height };
    readBack[tag] = r.frames.map((f) => readTopIndex(f.rgb, f.width, f.height));
  }
  setDecoder(undefined);
  await getFrames({ video, at: overview, resolution, mode: "exact" });
  // Ten bars hold the index modulo 1024 (34 s): enough to tell a wrong seek from a right one.
  const expectedFrames = overview.map((t) => Math.floor(t * FPS + 1e-6) % 1024);
  const probePy = pyavOnce(video, overview.slice(0, 1), size, "keyframe");
  const py: { ok: boolean; note?: string; version?: string; exactFrames?: number[] } = { ok: probePy.ok, note: probePy.note, version: probePy.version };
  if (py.ok) {
    const pyCase = (mode: "keyframe" | "exact") => async () => {
      const r = pyavOnce(video, overview, size, mode);
      if (!r.ok || r.ms === undefined) throw new Error(`PyAV failed: ${r.note}`);
      if (mode === "exact") py.exactFrames = r.frames;
      return r.ms;
    };
    cases.push(
      { name: "PyAV keyframe 8", what: `PyAV ${py.version}: open once, seek to keyframe, RGB at rung size (in-process time)`, frames: 8, run: pyCase("keyframe") },
      { name: "PyAV exact 8", what: `PyAV ${py.version}: open once, seek + decode to the frame shown at t (in-process time)`, frames: 8, run: pyCase("exact") },
    );
  }
  const progress = new Progress("bench", repeats * cases.length);
  const rows = await measureAll(cases, repeats, progress);
  setDecoder(undefined);

  const get = (n: string) => rows.find((r) => r.name === n)?.medianMs;
  const naive = get("naive 8 frames")!;
  const targets = [
    ...paths.flatMap(({ tag }) => {
      const tol = get(`${tag} tolerant 8 over 120 s`)!;
      const exact = get(`${tag} exact 8 over 120 s`)!;
      const clip = get(`${tag} clip 16 in 10 s`)!;
      return [
        { target: `${tag}: tolerant 8 frames >= 5x faster than naive`, value: `${(naive / tol).toFixed(2)}x`, met: naive / tol >= 5 },
        py.ok
          ? { target: `${tag}: exact 8 frames no slower than PyAV exact`, value: `${exact.toFixed(0)} ms vs ${get("PyAV exact 8")!.toFixed(0)} ms`, met: exact <= get("PyAV exact 8")! }
          : { target: `${tag}: exact 8 frames no slower than PyAV exact`, value: `skipped: ${py.note}`, met: null },
        { target: `${tag}: 16-frame clip in 10 s <= 1.5x (floor + decode of the span)`, value: `${clip.toFixed(0)} ms vs 1.5 x ${get("span decode 10 s")!.toFixed(0)} ms`, met: clip <= 1.5 * get("span decode 10 s")! },
      ];
    }),
    { target: "cached repeat < 5 ms", value: `${get("cached repeat")!.toFixed(2)} ms`, met: get("cached repeat")! < 5 },
  ];
  /** The PyAV row a case compares with: keyframes for tolerant, exact for exact 8 over 120 s. */
  const pyPeer = (name: string) => (/tolerant 8 over 120/.test(name) ? get("PyAV keyframe 8") : /exact 8 over 120/.test(name) ? get("PyAV exact 8") : undefined);
  const env = {
    date: new Date().toISOString(),
    node: process.version,
    ffmpeg: ffmpeg.version,
    ffmpegPath: ffmpeg.path,
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    repeats,
    video: { path: video, width: info.width, height: info.height, fps: info.fps, duration: info.duration, codec: info.codec, keyframeInterval: info.keyframeInterval },
    request: { resolution, size, overview, span: { ...span, times: spanTimes } },
    pyav: py.ok ? { version: py.version } : { skipped: py.note },
    decoder,
    tuning: setDecodeTuning({}),
    loadAverage: { start: loadStart, end: loadavg().map((x) => Math.round(x * 100) / 100) },
    correctness: { expectedExactFrames: expectedFrames, oursExact: readBack, pyavExact: py.exactFrames ?? null },
  };
  console.log(`ffmpeg ${env.ffmpeg}, ${env.cores} cores (${env.cpu}), node ${env.node}, median of ${repeats} repeats, frames ${size.width}x${size.height} (qwen low)`);
  console.log(`video: ${W}x${H} ${FPS} fps h264, ${SECONDS} s, keyframe every ${GOP} frames; load average ${env.loadAverage.start.join(" ")} at start, ${env.loadAverage.end.join(" ")} at end`);
  console.log(`frame decoder: ${decoder.active ? "in-process libav available" : "CLI only"} (${decoder.reason})`);
  const shown = Object.entries(readBack).map(([tag, f]) => `${tag} ${f.join(",")}`);
  console.log(`exact frames read back: ${shown.join("; ")}${py.exactFrames ? `; PyAV ${py.exactFrames.join(",")}` : ""}; expected ${expectedFrames.join(",")}`);
  console.log("");
  console.log(`| ${"case".padEnd(30)} | ${"median ms".padStart(10)} | ${"vs naive".padStart(9)} | ${"vs PyAV".padStart(8)} | what`);
  console.log(`|${"-".repeat(32)}|${"-".repeat(12)}|${"-".repeat(11)}|${"-".repeat(10)}|------`);
  for (const r of rows) {
    const peer = pyPeer(r.name);
    const vsPy = peer === undefined ? "—" : `${(peer / r.medianMs).toFixed(2)}x`;
    console.log(`| ${r.name.padEnd(30)} | ${r.medianMs.toFixed(1).padStart(10)} | ${(naive / r.medianMs).toFixed(2).padStart(8)}x | ${vsPy.padStart(8)} | ${r.what}`);
  }
  if (!py.ok) console.log(`PyAV: skipped (${py.note})`);
  if (!decoder.active) console.log(`in-process decoder: not measured (${decoder.reason})`);
  console.log("");
  for (const t of targets) console.log(`${t.met === null ? "SKIP" : t.met ? "MET " : "MISS"}  ${t.target}: ${t.value}`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "video.json"), JSON.stringify({ env, rows, targets }, null, 2) + "\n");
  writeFileSync(join(outDir, "video.svg"), svgChart(rows, `video layer, median of ${repeats} (ffmpeg ${env.ffmpeg}, ${env.cores} cores)`));
  console.log(`\nwrote ${join(outDir, "video.json")} and ${join(outDir, "video.svg")}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
