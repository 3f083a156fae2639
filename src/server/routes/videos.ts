/** POST /v1/videos (upload once, ask many times) and DELETE /v1/videos/:id. */
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { FramemindError } from "../../errors.js";
import { parseInput } from "../plugin.js";
import { VideoIdParams, VideoUploadReplySchema } from "../schemas.js";
import type { RouteOptions } from "../services.js";
import { checkVideo, readMultipart } from "../uploads.js";

const UploadForm = z.object({ file: z.string().describe("the video file (binary part)") });

export const videoRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { config, videos, docs } = services;
  docs.add({
    method: "post",
    path: "/v1/videos",
    tag: "videos",
    summary: "Upload a video once; ask many questions about it by id",
    description: `multipart/form-data with one file part. The video is deleted after ${config.videoTtlS} s (or DELETE). Caps: ${config.limits.maxUploadBytes} bytes, ${config.limits.maxDurationS} s.`,
    body: { "multipart/form-data": UploadForm },
    responses: { 201: { description: "stored", content: { "application/json": VideoUploadReplySchema } } },
    errors: [400, 401, 413, 415, 422, 429],
  });
  app.post("/v1/videos", async (request, reply) => {
    const { file } = await readMultipart(request, { dir: videos.dir, maxBytes: config.limits.maxUploadBytes });
    if (!file) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "no file part in the multipart body" });
    const info = await checkVideo(file.path, { maxDurationS: config.limits.maxDurationS });
    const v = videos.add(file, info);
    const body: z.infer<typeof VideoUploadReplySchema> = {
      id: v.id,
      expires_at: new Date(v.expiresAt).toISOString(),
      ttl_s: config.videoTtlS,
      filename: v.filename,
      video: { duration: info.duration, fps: info.fps, width: info.width, height: info.height, codec: info.codec, bytes: info.bytes },
    };
    return reply.code(201).send(body);
  });

  docs.add({
    method: "delete",
    path: "/v1/videos/{id}",
    tag: "videos",
    summary: "Delete an uploaded video (questions already running on it finish)",
    params: VideoIdParams,
    responses: { 200: { description: "deleted", content: { "application/json": z.object({ id: z.string(), deleted: z.literal(true) }) } } },
    errors: [400, 401, 404, 429],
  });
  app.delete("/v1/videos/:id", async (request) => {
    const { id } = parseInput(VideoIdParams, request.params, "params");
    if (!(await videos.delete(id))) throw new FramemindError("FM_ERR_SERVER_NOT_FOUND", { what: "video", id });
    return { id, deleted: true as const };
  });
};
