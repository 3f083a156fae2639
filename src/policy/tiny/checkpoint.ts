/**
 * The embedded model on disk: an engine checkpoint (model.safetensors, config.json, state.json,
 * optional optimizer) plus vocab.json (the tokenizer) and, for shipped models, card.json.
 * Loading checks that the vocabulary fits the model's embedding table.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { TransformerModel, type AdamWState, type RngState } from "../../nn/index.js";
import { FramemindError } from "../../errors.js";
import { packageRoot } from "../../../prompts/index.js";
import { Tokenizer } from "./tokenizer.js";
import { writeFileAtomic } from "../../nn/index.js";

export const VOCAB_FILE = "vocab.json";
export const CARD_FILE = "card.json";

/** models/framemind-tiny inside the package (the shipped model). */
export function defaultModelDir(): string {
  return join(packageRoot(), "models", "framemind-tiny");
}

/** The version a model folder's card.json gives (undefined without a card or a version). */
export function cardVersion(dir: string): string | undefined {
  const file = join(resolve(dir), CARD_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version : undefined;
}

export interface LoadedTiny {
  model: TransformerModel;
  tokenizer: Tokenizer;
  /** Short content hash of the weights, recorded as the policy's model version. */
  version: string;
  optimizer?: AdamWState;
  rng?: RngState;
  meta: Record<string, unknown>;
}

export function loadTiny(dir: string = defaultModelDir()): LoadedTiny {
  const abs = resolve(dir);
  if (!existsSync(join(abs, VOCAB_FILE)) || !existsSync(join(abs, "model.safetensors"))) {
    throw new FramemindError("FM_ERR_MODEL_NOT_FOUND", { path: abs });
  }
  const tokenizer = new Tokenizer((JSON.parse(readFileSync(join(abs, VOCAB_FILE), "utf8")) as { vocab: string[] }).vocab);
  const ck = TransformerModel.load(abs);
  if (ck.model.config.vocabSize !== tokenizer.size) {
    throw new FramemindError("FM_ERR_MODEL_INVALID", { path: abs, reason: `vocab.json has ${tokenizer.size} entries, the model ${ck.model.config.vocabSize}` });
  }
  const hash = createHash("sha256").update(readFileSync(join(abs, "model.safetensors"))).digest("hex").slice(0, 12);
  const card = cardVersion(abs);
  return {
    model: ck.model,
    tokenizer,
    version: card ? `${card}+${hash}` : hash,
    ...(ck.optimizer ? { optimizer: ck.optimizer } : {}),
    ...(ck.rng ? { rng: ck.rng } : {}),
    meta: ck.meta,
  };
}

/** Save model (+ optimizer / RNG / meta) and the vocabulary into one folder. */
export function saveTiny(dir: string, model: TransformerModel, tokenizer: Tokenizer, extra: Parameters<TransformerModel["save"]>[1] = {}): void {
  model.save(dir, extra);
  writeFileAtomic(join(dir, VOCAB_FILE), JSON.stringify(tokenizer.toJSON()));
}
