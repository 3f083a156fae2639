/**
 * Frames of a synthetic scene as the video layer would return them, without encoding or decoding:
 * the frame shown at t (exact) or the keyframe before t (tolerant; the suite puts a keyframe
 * every second), area-resized to a rung of the `tiny` ladder. The SFT drills (src/train/drills.ts)
 * use it to make many more examples than encoded videos allow; the frames differ from decoded ones
 * only by h264's quantisation and chroma subsampling.
 */
import { cropRgb, regionCut, targetSize, tokensFor, type FrameMode, type Region } from "../../src/video/index.js";
import { frameTime, sceneRenderer, type Scene } from "./scene.js";
import type { EvidenceFrame } from "../../src/policy/types.js";

/** Box-filter resize with fractional coverage (what ffmpeg's `flags=area` computes). */
export function areaResize(src: Buffer, w: number, h: number, ow: number, oh: number): Buffer {
  const pass = (get: (i: number, j: number, c: number) => number, n: number, on: number, m: number) => {
    // Resamples axis i (n -> on) for every j < m; returns [on][m][3] floats.
    const out = new Float32Array(on * m * 3);
    const step = n / on;
    for (let o = 0; o < on; o++) {
      const a = o * step, b = a + step;
      for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) {
        const wgt = (Math.min(b, i + 1) - Math.max(a, i)) / step;
        for (let j = 0; j < m; j++) for (let c = 0; c < 3; c++) out[(o * m + j) * 3 + c]! += wgt * get(i, j, c);
      }
    }
    return out;
  };
  const cols = pass((x, y, c) => src[(y * w + x) * 3 + c]!, w, ow, h); // [ow][h]
  const rows = pass((y, x, c) => cols[(x * h + y) * 3 + c]!, h, oh, ow); // [oh][ow]
  const out = Buffer.alloc(ow * oh * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(rows[i]!)));
  return out;
}

/**
 * Renders the frames a request for `times` would get, at `rung` of the tiny ladder, cropped to
 * `region` as the video layer crops (the whole frame resized to the cut's decode size, then the window copied).
 */
export function renderAt(scene: Scene, times: readonly number[], rung: string, mode: FrameMode, frame = sceneRenderer(scene), region?: Region): EvidenceFrame[] {
  const cut = region ? regionCut({ width: scene.width, height: scene.height }, { ladder: "tiny", rung }, region) : undefined;
  const size = cut ? cut.size : targetSize({ width: scene.width, height: scene.height }, { ladder: "tiny", rung });
  const look = (rgb: Buffer) => (cut ? cropRgb(areaResize(rgb, scene.width, scene.height, cut.decode.width, cut.decode.height), cut) : areaResize(rgb, scene.width, scene.height, size.width, size.height));
  const last = scene.frameCount - 1;
  return times.map((t) => {
    // Exact: the frame shown at t. Tolerant: the keyframe before t (a seek exactly onto a keyframe
    // lands on the previous one, as measured on the suite's decoded videos).
    const shown = Math.min(last, Math.max(0, mode === "tolerant" ? Math.ceil(t * scene.fps - 1e-6) - 1 : Math.floor(t * scene.fps + 1e-6)));
    const k = mode === "tolerant" ? shown - (shown % Math.round(scene.fps)) : shown;
    return { timestamp: Math.round(frameTime(scene, k) * 1000) / 1000, width: size.width, height: size.height, tokens: tokensFor(size), rung, rgb: look(frame(k)), ...(region ? { region } : {}) };
  });
}
