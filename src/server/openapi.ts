/**
 * OpenAPI 3.1 generated from the same zod schemas the routes validate with (z.toJSONSchema, JSON
 * Schema 2020-12, which OpenAPI 3.1 uses as is): routes register their operation here when they
 * are defined, so the document cannot drift from the code. Served at /docs/openapi.json with a
 * small HTML page at /docs.
 */
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { HttpErrorBodySchema, OpenAIErrorBodySchema } from "./schemas.js";
import { shared } from "./plugin.js";

export interface Operation {
  method: "get" | "post" | "delete";
  /** OpenAPI path, e.g. /v1/videos/{id}. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Request bodies by content type (application/json, multipart/form-data). */
  body?: Record<string, z.ZodType>;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Success responses: status -> content type -> schema (undefined = described only). */
  responses: Record<number, { description: string; content?: Record<string, z.ZodType | undefined> }>;
  /** Error statuses this operation may answer with. */
  errors?: number[];
  errorShape?: "native" | "openai";
  /** false for public routes (health, docs). */
  auth?: boolean;
}

type Json = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: "input" | "output"): Json {
  const j = z.toJSONSchema(s, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
  delete j.$schema;
  return j;
}

function paramsOf(obj: z.ZodObject | undefined, where: "path" | "query"): Json[] {
  if (!obj) return [];
  const j = schemaOf(obj, "input") as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(j.properties ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === "path" || (j.required ?? []).includes(name),
    schema,
    ...(typeof schema.description === "string" ? { description: schema.description } : {}),
  }));
}

export class ApiDocs {
  private readonly ops: Operation[] = [];
  constructor(private readonly info: { title: string; version: string }) {}

  add(op: Operation): void {
    this.ops.push(op);
  }

  document(): Json {
    const paths: Record<string, Record<string, Json>> = {};
    for (const op of this.ops) {
      const responses: Record<string, Json> = {};
      for (const [status, r] of Object.entries(op.responses)) {
        responses[status] = {
          description: r.description,
          ...(r.content ? { content: Object.fromEntries(Object.entries(r.content).map(([ct, s]) => [ct, s ? { schema: schemaOf(s, "output") } : {}])) } : {}),
        };
      }
      const errSchema = op.errorShape === "openai" ? "OpenAIError" : "Error";
      for (const status of op.errors ?? []) {
        responses[String(status)] = { description: ERROR_TEXT[status] ?? "error", content: { "application/json": { schema: { $ref: `#/components/schemas/${errSchema}` } } } };
      }
      (paths[op.path] ??= {})[op.method] = {
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        tags: [op.tag],
        operationId: `${op.method}${op.path.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
        parameters: [...paramsOf(op.params, "path"), ...paramsOf(op.query, "query")],
        ...(op.body ? { requestBody: { required: true, content: Object.fromEntries(Object.entries(op.body).map(([ct, s]) => [ct, { schema: schemaOf(s, "input") }])) } } : {}),
        responses,
        ...(op.auth === false ? { security: [] } : {}),
      };
    }
    return {
      openapi: "3.1.0",
      info: { ...this.info, description: "FrameMind: agentic video question answering. Errors carry a FM_ERR_* code." },
      servers: [{ url: "/" }],
      security: [{ bearer: [] }],
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "API key (required when the server has keys configured)" } },
        schemas: { Error: schemaOf(HttpErrorBodySchema, "output"), OpenAIError: schemaOf(OpenAIErrorBodySchema, "output") },
      },
      paths,
    };
  }
}

const ERROR_TEXT: Record<number, string> = {
  400: "invalid arguments",
  401: "missing or invalid API key",
  403: "path outside the roots, URL refused, or invalid link",
  404: "not found",
  413: "upload, body, download or video duration over the limit",
  415: "unsupported content type or not a video",
  422: "the video could not be decoded",
  429: "rate limited (Retry-After)",
  503: "busy: the queue is full (Retry-After), or shutting down",
  504: "the question timed out",
};

const PAGE = (title: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} API</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
h2{margin-top:1.6em;border-bottom:1px solid #ddd}code,pre{background:#f5f5f5;border-radius:3px}pre{padding:.6em;overflow:auto;font-size:12px}
.op{margin:1em 0;padding:.5em .8em;border-left:4px solid #4a7}.m{font-weight:bold;text-transform:uppercase;margin-right:.5em}</style></head>
<body><h1>${title} API</h1><p>Machine-readable: <a href="/docs/openapi.json">/docs/openapi.json</a> (OpenAPI 3.1).</p><div id="ops">loading…</div>
<script>
fetch('/docs/openapi.json').then(r=>r.json()).then(doc=>{
  const el=document.getElementById('ops');el.textContent='';
  const byTag={};
  for(const [p,ms] of Object.entries(doc.paths))for(const [m,op] of Object.entries(ms))(byTag[op.tags[0]]??=[]).push([m,p,op]);
  for(const [tag,ops] of Object.entries(byTag)){
    const h=document.createElement('h2');h.textContent=tag;el.append(h);
    for(const [m,p,op] of ops){
      const d=document.createElement('div');d.className='op';
      const t=document.createElement('div');t.innerHTML='<span class="m"></span><code></code> — <span></span>';
      t.children[0].textContent=m;t.children[1].textContent=p;t.children[2].textContent=op.summary;d.append(t);
      if(op.description){const x=document.createElement('p');x.textContent=op.description;d.append(x);}
      const det=document.createElement('details');const s=document.createElement('summary');s.textContent='schemas';det.append(s);
      const pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);det.append(pre);d.append(det);
      el.append(d);
    }
  }
});
</script></body></html>`;

/** Serves the document and the page (public: they describe, they do not act). */
export const docsPlugin: FastifyPluginAsync<{ docs: ApiDocs }> = shared(async (app, opts: { docs: ApiDocs }) => {
  const { docs } = opts;
  docs.add({ method: "get", path: "/docs/openapi.json", summary: "This OpenAPI document", tag: "meta", auth: false, responses: { 200: { description: "OpenAPI 3.1 JSON", content: { "application/json": undefined } } } });
  docs.add({ method: "get", path: "/docs", summary: "API documentation page", tag: "meta", auth: false, responses: { 200: { description: "HTML", content: { "text/html": undefined } } } });
  let cached: string | undefined;
  app.get("/docs/openapi.json", { config: { auth: "public" } }, async (_req, reply) => reply.type("application/json; charset=utf-8").send((cached ??= JSON.stringify(docs.document()))));
  app.get("/docs", { config: { auth: "public" } }, async (_req, reply) => reply.type("text/html; charset=utf-8").send(PAGE("FrameMind")));
});
