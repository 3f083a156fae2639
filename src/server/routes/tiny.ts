/**
 * `framemind-tiny` on /v1/chat/completions: one raw step of the embedded policy over the
 * request's `image_url` parts, so the project's `openai` policy can drive the embedded model
 * through the real wire format. Served only when the embedded (`tiny`) policy is available.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { FramemindError } from "../../errors.js";
import type { ChatRequest } from "../schemas.js";
import type { ServerServices } from "../services.js";

export const TINY_MODEL = "framemind-tiny";

export async function tinyStep(_services: ServerServices, _request: FastifyRequest, _reply: FastifyReply, body: ChatRequest): Promise<unknown> {
  throw new FramemindError("FM_ERR_SERVER_MODEL_NOT_FOUND", { model: body.model, models: "framemind-agent", param: "model" });
}
