/**
 * Plugin helpers. `shared()` marks a plugin so its hooks, decorators and routes apply to the
 * instance that registers it (what fastify-plugin does: fastify reads this well-known symbol);
 * used instead of fastify-plugin, which is not a direct dependency.
 */
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { FramemindError } from "../errors.js";

export function shared<O extends Record<string, unknown>>(plugin: FastifyPluginAsync<O>): FastifyPluginAsync<O> {
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for("skip-override")] = true;
  return plugin;
}

/** Validates request data with a route's zod schema; the 400 names every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where = "body"): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const reason = r.error.issues.map((i) => `${[where, ...i.path].join(".")}: ${i.message}`).join("; ");
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason });
  }
  return r.data;
}
