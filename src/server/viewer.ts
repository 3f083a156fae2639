/**
 * The trajectory viewer: one server-rendered HTML page (no scripts, no external resources):
 * the question and answer, the video's timeline with the moments each observation looked at
 * (the frames the answer rests on marked), then each observation's frames as thumbnails at the
 * resolution the policy saw them, and each turn's reasoning, call and outcome.
 */
import type { Trajectory } from "../agent/trajectory.js";
import type { StoredFrame } from "./store.js";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (t: number) => `${t.toFixed(1)} s`;
const COLORS = ["#888", "#2a7ae2", "#e2762a", "#2aa876", "#a43fd1", "#d13f6b", "#7a8f1c", "#1c8f8f"];

/** Observation index -> label: 0 is the first observation, k is turn k-1's result. */
function label(record: Trajectory, obs: number): string {
  if (obs === 0) return `first observation (${record.settings.firstObservation.frames} frames, ${record.settings.firstObservation.rung})`;
  const turn = record.turns[obs - 1];
  return turn?.call ? `turn ${obs}: ${turn.call.name}` : `turn ${obs}`;
}

function frameImgs(frames: StoredFrame[], obs: number, src: (f: StoredFrame) => string): string {
  const mine = frames.filter((f) => f.observation === obs).sort((a, b) => a.index - b.index);
  if (mine.length === 0) return "";
  // Tiny frames are enlarged (pixelated) so they can be seen; the caption gives the real size.
  return `<div class="frames">${mine
    .map((f) => {
      const scale = Math.max(1, Math.min(4, Math.floor(112 / Math.max(f.width, f.height))));
      return `<figure class="frame" data-t="${f.timestamp}"><img class="frame-img" src="${esc(src(f))}" width="${f.width * scale}" height="${f.height * scale}" alt="frame at ${fmt(f.timestamp)}"><figcaption>${fmt(f.timestamp)} · ${f.width}×${f.height} · ${f.tokens} tok · ${esc(f.rung)}</figcaption></figure>`;
    })
    .join("")}</div>`;
}

export function renderViewer(record: Trajectory, frames: StoredFrame[], frameUrl: (f: StoredFrame) => string, jsonUrl: string): string {
  const d = Math.max(record.video.duration, 1e-6);
  const obsCount = Math.max(1, ...record.framesSeen.map((f) => f.observation + 1), ...frames.map((f) => f.observation + 1));
  // The answer rests on the evidence in view when answering: the latest observation's frames.
  const cited = new Set(record.evidenceCited.map((t) => t.toFixed(3)));
  const lastObs = Math.max(-1, ...record.framesSeen.map((f) => f.observation));
  const rows: string[] = [];
  for (let o = 0; o < obsCount; o++) {
    const seen = record.framesSeen.filter((f) => f.observation === o);
    if (seen.length === 0) continue;
    const color = COLORS[o % COLORS.length];
    const marks = seen
      .map((f) => `<span class="mark${o === lastObs && cited.has(f.timestamp.toFixed(3)) ? " cited" : ""}" style="left:${((100 * f.timestamp) / d).toFixed(2)}%;background:${color}" title="${fmt(f.timestamp)} ${f.width}×${f.height}"></span>`)
      .join("");
    rows.push(`<div class="row"><div class="lbl">${esc(label(record, o))}</div><div class="track">${marks}</div></div>`);
  }
  const ticks = Array.from({ length: 6 }, (_, k) => `<span style="left:${k * 20}%">${fmt((k * d) / 5)}</span>`).join("");

  const sections: string[] = [`<section class="turn obs" data-observation="0"><h3>${esc(label(record, 0))}</h3>${frameImgs(frames, 0, frameUrl)}</section>`];
  for (const t of record.turns) {
    const call = t.call ? `<div class="call"><b>${esc(t.call.name)}</b> <code>${esc(JSON.stringify(t.call.arguments))}</code></div>` : "";
    const err = t.error ? `<div class="err">${esc(t.error.code)}: ${esc(t.error.message)}</div>` : "";
    const ans = t.answer !== null ? `<div class="ans">answer: <b>${esc(t.answer)}</b></div>` : "";
    const res = t.result ? `<div class="meta">${t.result.timestamps.length} frames · ${t.result.width}×${t.result.height} · ${t.result.tokens} tokens · ${esc(t.result.rung)}${t.result.region ? ` · region ${esc(t.result.region.join(", "))}` : ""}${t.result.cached ? " · cached" : ""} · ${t.timings.videoMs} ms video, ${t.timings.modelMs} ms model</div>` : `<div class="meta">${t.timings.modelMs} ms model</div>`;
    sections.push(
      `<section class="turn" data-turn="${t.index}"><h3>turn ${t.index + 1}${t.mustAnswer ? " (must answer)" : ""}${t.model ? ` · ${esc(t.model)}` : ""}</h3><pre class="reasoning">${esc(t.text)}</pre>${call}${err}${ans}${res}${frameImgs(frames, t.index + 1, frameUrl)}</section>`,
    );
  }
  const opts = record.options?.length ? `<ul class="opts">${record.options.map((o) => `<li>${esc(o)}</li>`).join("")}</ul>` : "";
  const tok = record.tokens;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>FrameMind trajectory ${esc(record.id)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:1em 1.2em 3em}
h1{font-size:1.3em;margin:.2em 0}.q{font-size:1.15em}.answer{font-size:1.4em;margin:.3em 0}
.sum{color:#555}.opts{margin:.2em 0 .6em}
.timeline{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em .8em;margin:1em 0}
.row{display:flex;align-items:center;height:22px}.lbl{width:260px;font-size:12px;color:#444;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.track,.axis{position:relative;flex:1;height:14px;background:#f0f0f0;border-radius:3px}
.axis{background:none;height:16px;font-size:11px;color:#777;margin-left:260px}.axis span{position:absolute;transform:translateX(-50%)}
.mark{position:absolute;top:1px;width:4px;height:12px;border-radius:1px;transform:translateX(-2px)}
.mark.cited{outline:2px solid #000;z-index:2}
.turn{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em .9em;margin:.8em 0}
.turn h3{margin:.1em 0 .4em;font-size:1em}.reasoning{white-space:pre-wrap;background:#f6f6f6;padding:.5em;border-radius:4px;font-size:12.5px;margin:.3em 0}
.call code{font-size:12px}.err{color:#b00020}.ans{font-size:1.1em;margin:.3em 0}.meta{color:#666;font-size:12px}
.frames{display:flex;flex-wrap:wrap;gap:8px;margin-top:.5em}.frame{margin:0;text-align:center}
.frame img{image-rendering:pixelated;border:1px solid #ccc;display:block;background:#000}.frame figcaption{font-size:11px;color:#555}
</style></head><body><main>
<h1>FrameMind trajectory</h1>
<div class="q">Q: ${esc(record.question)}</div>${opts}
<div class="answer">A: <b id="answer">${esc(record.answer ?? "(no answer)")}</b></div>
<div class="sum">stop: ${esc(record.stopReason)} · policy ${esc(record.policy.id)} · ${record.turns.length} turns · ${record.framesSeen.length} frames · ${tok.visual} visual tokens · ${record.timings.totalMs} ms (video ${record.timings.videoMs}, model ${record.timings.modelMs}) · video ${fmt(record.video.duration)} ${record.video.width}×${record.video.height} · <a href="${esc(jsonUrl)}">JSON</a></div>
${record.warnings.length ? `<div class="sum">warnings: ${record.warnings.map(esc).join("; ")}</div>` : ""}
<div class="timeline"><div class="axis">${ticks}</div>${rows.join("")}</div>
${sections.join("\n")}
</main></body></html>`;
}
