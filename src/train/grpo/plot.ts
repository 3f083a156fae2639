/**
 * plot.svg of a GRPO run: reward, accuracy (rollouts and validation), KL and visual tokens per
 * step, one small panel each, rewritten after every step so it can be watched while training.
 */

export interface PlotPoint {
  step: number;
  reward: number;
  accuracy: number;
  kl: number;
  tokens: number;
}

const W = 360;
const H = 180;
const PAD = { l: 44, r: 12, t: 24, b: 26 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

export interface Series {
  points: ReadonlyArray<readonly [number, number]>;
  color: string;
  label: string;
  dots?: boolean;
}

function panel(x0: number, y0: number, title: string, series: readonly Series[], xMax: number, range?: readonly [number, number]): string {
  const all = [...series.flatMap((s) => s.points.map((p) => p[1])), ...(range ?? [])];
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (hi - lo < 1e-9) {
    hi += 0.5;
    lo -= 0.5;
  }
  const px = (s: number) => x0 + PAD.l + (s / Math.max(1, xMax)) * (W - PAD.l - PAD.r);
  const py = (v: number) => y0 + H - PAD.b - ((v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  const out = [
    `<rect x="${x0}" y="${y0}" width="${W}" height="${H}" fill="#fff" stroke="#ddd"/>`,
    `<text x="${x0 + PAD.l}" y="${y0 + 16}" font-size="12" font-weight="bold">${esc(title)}</text>`,
    `<text x="${x0 + 4}" y="${py(hi) + 4}" font-size="10">${fmt(hi)}</text>`,
    `<text x="${x0 + 4}" y="${py(lo) + 4}" font-size="10">${fmt(lo)}</text>`,
    `<text x="${x0 + W - PAD.r}" y="${y0 + H - 8}" font-size="10" text-anchor="end">step ${xMax}</text>`,
  ];
  series.forEach((s, k) => {
    out.push(`<text x="${x0 + W - PAD.r}" y="${y0 + 16 + 12 * k}" font-size="10" text-anchor="end" fill="${s.color}">${esc(s.label)}</text>`);
    if (s.points.length === 0) return;
    if (s.dots) for (const [a, b] of s.points) out.push(`<circle cx="${px(a).toFixed(1)}" cy="${py(b).toFixed(1)}" r="3" fill="${s.color}"/>`);
    else out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.points.map(([a, b]) => `${px(a).toFixed(1)},${py(b).toFixed(1)}`).join(" ")}"/>`);
  });
  return out.join("\n");
}

/** Panels of curves side by side (two per row) over one step axis, captioned with `title`; `range` widens a panel's y axis to cover it (accuracies on 0..1). */
export function renderPanels(title: string, panels: ReadonlyArray<{ title: string; series: readonly Series[]; range?: readonly [number, number] }>): string {
  const xMax = Math.max(1, ...panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q[0]))));
  const rows = Math.ceil(panels.length / 2);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${rows * H + 20}" font-family="sans-serif">`,
    `<text x="6" y="${rows * H + 15}" font-size="11" fill="#555">${esc(title)}</text>`,
    ...panels.map((p, i) => panel((i % 2) * W, Math.floor(i / 2) * H, p.title, p.series, xMax, p.range)),
    "</svg>",
    "",
  ].join("\n");
}

export function renderPlot(title: string, points: readonly PlotPoint[], val: ReadonlyArray<{ step: number; accuracy: number }>): string {
  const line = (f: (p: PlotPoint) => number) => points.map((p) => [p.step, f(p)] as const);
  return renderPanels(title, [
    { title: "reward (mean per rollout)", series: [{ points: line((p) => p.reward), color: "#1f77b4", label: "reward" }] },
    {
      title: "accuracy",
      series: [
        { points: line((p) => p.accuracy), color: "#2ca02c", label: "rollouts (sampled)" },
        { points: val.map((v) => [v.step, v.accuracy] as const), color: "#d62728", label: "validation (greedy)", dots: true },
      ],
    },
    { title: "KL to reference (k3)", series: [{ points: line((p) => p.kl), color: "#9467bd", label: "kl" }] },
    { title: "visual tokens per question", series: [{ points: line((p) => p.tokens), color: "#ff7f0e", label: "tokens" }] },
  ]);
}
