/**
 * SVG plots without dependencies: per-family bars for one run, and accuracy / evidence recall
 * against visual tokens (log scale) when runs are combined; runs of the same series (same
 * policy and rung, different frame counts) are joined by a line.
 */
import type { Report } from "./report.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

function svg(width: number, height: number, body: string[]): string {
  return [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`, `<rect width="100%" height="100%" fill="white"/>`, ...body, "</svg>", ""].join("\n");
}

/** Grouped bars: evidence recall (and accuracy when there is one) per family. */
export function familyBars(r: Report): string {
  const fams = Object.entries(r.per_family);
  const metrics: Array<[string, (s: Report["per_family"][string]) => number | null]> = [["evidence recall", (s) => s.evidence_recall]];
  if (r.accuracy !== null) metrics.push(["accuracy", (s) => s.accuracy]);
  const W = 120 + fams.length * 70, H = 260, x0 = 50, y0 = 30, ph = 170;
  const body: string[] = [`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(r.label)}: per family</text>`];
  for (let k = 0; k <= 4; k++) {
    const y = y0 + ph - (k / 4) * ph;
    body.push(`<line x1="${x0}" x2="${W - 10}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${x0 - 4}" y="${y + 4}" text-anchor="end">${k * 25}%</text>`);
  }
  fams.forEach(([f, s], i) => {
    const gx = x0 + 10 + i * 70;
    metrics.forEach(([, get], m) => {
      const v = get(s) ?? 0;
      body.push(`<rect x="${gx + m * 22}" y="${y0 + ph - v * ph}" width="20" height="${v * ph}" fill="${PALETTE[m]}"/>`);
    });
    body.push(`<text x="${gx + 20}" y="${y0 + ph + 14}" text-anchor="middle">${esc(f)}</text>`);
  });
  metrics.forEach(([name], m) => body.push(`<rect x="${x0 + m * 120}" y="${H - 22}" width="10" height="10" fill="${PALETTE[m]}"/><text x="${x0 + 14 + m * 120}" y="${H - 13}">${name}</text>`));
  return svg(W, H, body);
}

/** Series key: policy and rung, so uniform-{4,8,16,32}-low form one curve. */
const seriesOf = (r: Report) => `${r.policy}${r.settings.rung ? `-${r.settings.rung}` : ""}`;

function panel(reports: Report[], metric: "evidence_recall" | "accuracy", ox: number, title: string, colors: Map<string, string>): string[] {
  const pw = 330, ph = 230, oy = 40;
  const pts = reports.filter((r) => r[metric] !== null && r.visual_tokens > 0);
  const xs = pts.map((r) => Math.log2(r.visual_tokens));
  const lo = Math.floor(Math.min(0, ...xs)), hi = Math.ceil(Math.max(lo + 1, ...xs));
  const X = (t: number) => ox + ((Math.log2(t) - lo) / (hi - lo)) * pw;
  const Y = (v: number) => oy + ph - v * ph;
  const body = [`<text x="${ox + pw / 2}" y="${oy - 14}" text-anchor="middle" font-size="13">${title}</text>`, `<rect x="${ox}" y="${oy}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`];
  for (let k = 0; k <= 4; k++) body.push(`<line x1="${ox}" x2="${ox + pw}" y1="${Y(k / 4)}" y2="${Y(k / 4)}" stroke="#eee"/><text x="${ox - 4}" y="${Y(k / 4) + 4}" text-anchor="end">${k * 25}%</text>`);
  for (let e = lo; e <= hi; e++) body.push(`<text x="${X(2 ** e)}" y="${oy + ph + 14}" text-anchor="middle">${2 ** e}</text>`);
  body.push(`<text x="${ox + pw / 2}" y="${oy + ph + 30}" text-anchor="middle">visual tokens per question (log scale)</text>`);
  if (pts.length === 0) body.push(`<text x="${ox + pw / 2}" y="${oy + ph / 2}" text-anchor="middle" fill="#888">no run has this metric</text>`);
  const bySeries = new Map<string, Report[]>();
  for (const r of pts) bySeries.set(seriesOf(r), [...(bySeries.get(seriesOf(r)) ?? []), r]);
  for (const [s, rs] of bySeries) {
    const c = colors.get(s)!;
    const sorted = [...rs].sort((a, b) => a.visual_tokens - b.visual_tokens);
    if (sorted.length > 1) body.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${sorted.map((r) => `${X(r.visual_tokens).toFixed(1)},${Y(r[metric]!).toFixed(1)}`).join(" ")}"/>`);
    for (const r of sorted) body.push(`<circle cx="${X(r.visual_tokens).toFixed(1)}" cy="${Y(r[metric]!).toFixed(1)}" r="3.5" fill="${c}"><title>${esc(r.label)}: ${(r[metric]! * 100).toFixed(1)}% at ${r.visual_tokens.toFixed(1)} tokens</title></circle>`);
  }
  return body;
}

/** Evidence recall and accuracy vs visual tokens for several runs. */
export function comparePlot(reports: Report[]): string {
  const series = [...new Set(reports.map(seriesOf))];
  const colors = new Map(series.map((s, i) => [s, PALETTE[i % PALETTE.length]!]));
  const body = [...panel(reports, "evidence_recall", 60, "evidence recall", colors), ...panel(reports, "accuracy", 460, "accuracy", colors)];
  series.forEach((s, i) => body.push(`<rect x="${60 + (i % 5) * 150}" y="${318 + Math.floor(i / 5) * 16}" width="10" height="10" fill="${colors.get(s)}"/><text x="${74 + (i % 5) * 150}" y="${327 + Math.floor(i / 5) * 16}">${esc(s)}</text>`));
  return svg(820, 340 + Math.ceil(series.length / 5) * 16, body);
}
