/**
 * Policies the server answers with: the configured default (the embedded `tiny` model unless
 * `--policy openai`), created once and reused; a request may name another registered policy.
 * Each policy runs on its ladder (the embedded model was trained on the `tiny` ladder, remote
 * VLMs use `qwen`). Creation failures are kept and reported by /readyz and as 503s.
 */
import { FramemindError, asFramemindError } from "../errors.js";
import type { PolicyConfig } from "../policy/index.js";
import type { Policy } from "../policy/types.js";
import type { LadderName } from "../video/index.js";
import type { ServerConfig } from "./config.js";

export type PolicyFactory = (name: string, config: PolicyConfig) => Policy | Promise<Policy>;

/** Policies a request may pick (`oracle` needs a dataset item, so it is not served). */
export const SERVABLE = ["tiny", "openai", "uniform"] as const;

export function ladderFor(name: string): LadderName {
  return name === "tiny" ? "tiny" : "qwen";
}

async function registryFactory(name: string, config: PolicyConfig): Promise<Policy> {
  const { createPolicy } = await import("../policy/index.js");
  return createPolicy(name, config);
}

export class PolicyProvider {
  private readonly made = new Map<string, Promise<Policy>>();
  readonly defaultName: string;

  constructor(
    private readonly config: ServerConfig["policy"],
    private readonly factory: PolicyFactory = registryFactory,
  ) {
    this.defaultName = config.name;
  }

  /** The policy for a request (default when unnamed), with its ladder. */
  async get(name?: string): Promise<{ policy: Policy; ladder: LadderName; name: string }> {
    const n = name ?? this.defaultName;
    if (n !== this.defaultName && !(SERVABLE as readonly string[]).includes(n)) {
      throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `unknown policy '${n}' (policies: ${[this.defaultName, ...SERVABLE.filter((s) => s !== this.defaultName)].join(", ")})` });
    }
    let p = this.made.get(n);
    if (!p) {
      const { baseUrl, model, apiKey, checkpoint } = this.config;
      // The endpoint settings serve the openai policy and the uniform policy's answering model.
      const openai = { ...(baseUrl ? { baseUrl } : {}), ...(model ? { model } : {}), ...(apiKey ? { apiKey } : {}) };
      const options = n === "tiny" && checkpoint ? { options: { checkpoint } } : {};
      p = Promise.resolve().then(() => this.factory(n, { ladder: ladderFor(n), openai, ...options }));
      this.made.set(n, p);
      // A failed creation is retried on the next request (the model file may appear later).
      p.catch(() => this.made.delete(n));
    }
    try {
      return { policy: await p, ladder: ladderFor(n), name: n };
    } catch (e) {
      const err = asFramemindError(e);
      if (err.code === "FM_ERR_POLICY_UNKNOWN" || err.code === "FM_ERR_ARGS_INVALID") throw err;
      throw new FramemindError("FM_ERR_SERVER_POLICY_UNAVAILABLE", { policy: n, reason: err.message }, { cause: e });
    }
  }

  /** Whether the default policy can be created (model loaded): for /readyz. */
  async ready(): Promise<{ ok: boolean; policy: string; reason?: string }> {
    try {
      const { policy } = await this.get();
      return { ok: true, policy: policy.id };
    } catch (e) {
      return { ok: false, policy: this.defaultName, reason: asFramemindError(e).message };
    }
  }
}
