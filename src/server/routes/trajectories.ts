/**
 * Saved trajectories: GET /v1/trajectories (recent), GET /v1/trajectories/:id (JSON record +
 * frame list), GET /trajectories/:id (viewer page) and its thumbnails. The record and viewer
 * routes accept a signed link (`?exp=&sig=`, returned with each answer) in place of an API key,
 * so a browser can open them; the thumbnails reuse the page's signature.
 */
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { z } from "zod";
import { TrajectorySchema } from "../../agent/trajectory.js";
import { FramemindError } from "../../errors.js";
import { parseInput } from "../plugin.js";
import { TrajectoryIdParams, TrajectoryListSchema, TrajectoryQuery } from "../schemas.js";
import type { RouteOptions } from "../services.js";
import { StoredFrameSchema, type StoredFrame } from "../store.js";
import { renderViewer } from "../viewer.js";

/** The resource a signed link grants: one trajectory (its record, page and frames). */
export function trajectoryResource(id: string): string {
  return `trajectory:${id}`;
}

/** For the auth hook: which trajectory a signed request is about. */
export function signedTrajectory(request: FastifyRequest): string | undefined {
  const id = (request.params as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? trajectoryResource(id) : undefined;
}

const FrameParams = TrajectoryIdParams.extend({ file: z.string().regex(/^o\d{1,4}-\d{1,4}\.png$/) });
const RecordReply = z.object({ record: TrajectorySchema, frames: z.array(StoredFrameSchema.extend({ url: z.string() })) });

export const trajectoryRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { store, docs } = services;

  /** Keeps the signature of the current request on links to the same trajectory. */
  const suffix = (request: FastifyRequest): string => {
    const q = request.query as { exp?: unknown; sig?: unknown } | undefined;
    return q?.sig !== undefined && q.exp !== undefined ? `?exp=${encodeURIComponent(String(q.exp))}&sig=${encodeURIComponent(String(q.sig))}` : "";
  };
  const load = async (request: FastifyRequest) => {
    const { id } = parseInput(TrajectoryIdParams, request.params, "params");
    parseInput(TrajectoryQuery, request.query ?? {}, "query");
    const t = await store.get(id);
    if (!t) throw new FramemindError("FM_ERR_SERVER_NOT_FOUND", { what: "trajectory", id });
    const frameUrl = (f: StoredFrame) => `/trajectories/${encodeURIComponent(id)}/frames/${f.file}${suffix(request)}`;
    return { id, t, frameUrl };
  };

  docs.add({ method: "get", path: "/v1/trajectories", tag: "trajectories", summary: "Recent trajectories, newest first", responses: { 200: { description: "list", content: { "application/json": TrajectoryListSchema } } }, errors: [401, 429] });
  app.get("/v1/trajectories", async (request) => {
    const items = await store.list(100);
    return { data: items.map((t) => ({ id: t.id, created_at: t.createdAt, question: t.question, answer: t.answer, url: services.links(request, t.id).url })) };
  });

  docs.add({
    method: "get",
    path: "/v1/trajectories/{id}",
    tag: "trajectories",
    summary: "A trajectory record (every turn, call, frame size, timing) and its thumbnails",
    params: TrajectoryIdParams,
    query: TrajectoryQuery,
    responses: { 200: { description: "record", content: { "application/json": RecordReply } } },
    errors: [400, 401, 403, 404, 429],
  });
  app.get("/v1/trajectories/:id", { config: { auth: "signed" } }, async (request) => {
    const { t, frameUrl } = await load(request);
    return { record: t.record, frames: t.frames.map((f) => ({ ...f, url: frameUrl(f) })) };
  });

  docs.add({
    method: "get",
    path: "/trajectories/{id}",
    tag: "trajectories",
    summary: "Viewer page: timeline of the moments each turn looked at, thumbnails, reasoning, answer",
    params: TrajectoryIdParams,
    query: TrajectoryQuery,
    responses: { 200: { description: "HTML", content: { "text/html": undefined } } },
    errors: [401, 403, 404],
  });
  app.get("/trajectories/:id", { config: { auth: "signed" } }, async (request, reply) => {
    const { id, t, frameUrl } = await load(request);
    const html = renderViewer(t.record, t.frames, frameUrl, `/v1/trajectories/${encodeURIComponent(id)}${suffix(request)}`);
    return reply.type("text/html; charset=utf-8").header("content-security-policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'").send(html);
  });

  docs.add({
    method: "get",
    path: "/trajectories/{id}/frames/{file}",
    tag: "trajectories",
    summary: "One thumbnail (PNG, at the resolution the policy saw)",
    params: FrameParams,
    query: TrajectoryQuery,
    responses: { 200: { description: "PNG", content: { "image/png": undefined } } },
    errors: [401, 403, 404],
  });
  app.get("/trajectories/:id/frames/:file", { config: { auth: "signed" } }, async (request, reply) => {
    const { id, file } = parseInput(FrameParams, request.params, "params");
    const png = await store.readFrame(id, file);
    if (!png) throw new FramemindError("FM_ERR_SERVER_NOT_FOUND", { what: "frame", id: `${id}/${file}` });
    return reply.type("image/png").header("cache-control", "private, max-age=86400, immutable").send(png);
  });
};
