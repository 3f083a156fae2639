// AdamW on Float32Arrays with global grad-norm clipping and an LR schedule helper.

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global L2 norm of all gradients to this value (0/undefined = off). */
  clipNorm?: number;
  /** Parameters excluded from weight decay (norm gains, biases). */
  noDecay?: ReadonlySet<string>;
  /** Per-parameter learning-rate multipliers (parameters a grown model adds learn from scratch while the rest fine-tunes). */
  lrScale?: ReadonlyMap<string, number>;
}

/** Serializable optimizer state (moments keyed by parameter name). */
export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export interface AdamStepInfo {
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Scale applied to the gradients (1 = not clipped). */
  clipScale: number;
  lr: number;
}

/** Global L2 norm over all gradient arrays (float64 accumulation). */
export function globalNorm(grads: Readonly<Record<string, Float32Array>>): number {
  let s = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return Math.sqrt(s);
}

export class AdamW {
  readonly opts: Required<Omit<AdamWOptions, 'noDecay' | 'clipNorm' | 'lrScale'>> & Pick<AdamWOptions, 'noDecay' | 'clipNorm' | 'lrScale'>;
  private state: AdamWState = { step: 0, m: {}, v: {} };

  constructor(opts: AdamWOptions) {
    this.opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, ...opts };
  }

  get step(): number {
    return this.state.step;
  }

  /** Update `params` in place. `lr` overrides the base learning rate (for schedules). */
  update(params: Record<string, Float32Array>, grads: Readonly<Record<string, Float32Array>>, lr = this.opts.lr): AdamStepInfo {
    const { beta1, beta2, eps, weightDecay, clipNorm, noDecay, lrScale } = this.opts;
    const gradNorm = globalNorm(grads);
    const clipScale = clipNorm && gradNorm > clipNorm ? clipNorm / (gradNorm + 1e-12) : 1;
    const t = ++this.state.step;
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2 = 1 - Math.pow(beta2, t);
    const invSqrtBc2 = 1 / Math.sqrt(bc2);
    for (const [name, p] of Object.entries(params)) {
      const g = grads[name];
      if (!g) throw new Error(`AdamW: no gradient for parameter '${name}'`);
      if (g.length !== p.length) throw new Error(`AdamW: gradient of '${name}' has ${g.length} values, parameter ${p.length}`);
      const m = (this.state.m[name] ??= new Float32Array(p.length));
      const v = (this.state.v[name] ??= new Float32Array(p.length));
      const lrP = lr * (lrScale?.get(name) ?? 1);
      const stepSize = lrP / bc1;
      const decay = noDecay?.has(name) ? 1 : 1 - lrP * weightDecay; // decoupled decay
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]! * clipScale;
        const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * gi);
        const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi);
        p[i] = p[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
      }
    }
    return { gradNorm, clipScale, lr };
  }

  getState(): AdamWState {
    return this.state;
  }

  setState(s: AdamWState): void {
    this.state = { step: s.step, m: { ...s.m }, v: { ...s.v } };
  }
}

export interface ScheduleOptions {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  decay: 'cosine' | 'linear' | 'constant';
  /** Final LR as a fraction of baseLr. Default 0.1. */
  minRatio?: number;
}

/** LR at `step` (0-based): linear warmup, then cosine/linear decay to minRatio * baseLr. */
export function lrAt(step: number, o: ScheduleOptions): number {
  const min = o.baseLr * (o.minRatio ?? 0.1);
  if (step < o.warmupSteps) return (o.baseLr * (step + 1)) / o.warmupSteps;
  if (o.decay === 'constant') return o.baseLr;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const f = Math.min(1, (step - o.warmupSteps) / span);
  const k = o.decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * f)) : 1 - f;
  return min + (o.baseLr - min) * k;
}
