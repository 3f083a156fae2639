/**
 * API keys (Bearer) and signed, expiring links for the viewer.
 *
 * Each route says who may call it in `config.auth`: "key" (default: a valid Bearer key when keys
 * are configured), "signed" (a key, or a valid `?exp=&sig=` link for that resource: the viewer
 * page and its thumbnails, opened in a browser that cannot send headers), "public" (health, docs).
 * Keys are compared as SHA-256 digests with timingSafeEqual (constant time, any length).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyPluginAsync, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { FramemindError } from "../errors.js";
import { shared } from "./plugin.js";

export type AuthMode = "key" | "signed" | "public";

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
  interface FastifyRequest {
    /** Who is calling: a key fingerprint, or the client address (rate-limit bucket). */
    fmClient?: string;
  }
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Signs `<resource>.<exp>` with HMAC-SHA256; links verify for that resource only. */
export class LinkSigner {
  private readonly secret: Buffer;
  constructor(secret: string | undefined, readonly ttlS: number) {
    this.secret = secret ? digest(`framemind-link:${secret}`) : randomBytes(32);
  }

  sign(resource: string, nowS = Math.floor(Date.now() / 1000)): { exp: number; sig: string } {
    const exp = nowS + this.ttlS;
    return { exp, sig: this.mac(resource, exp) };
  }

  /** A query string (`exp=..&sig=..`) for the resource. */
  query(resource: string): string {
    const { exp, sig } = this.sign(resource);
    return `exp=${exp}&sig=${sig}`;
  }

  /** Throws FM_ERR_SERVER_LINK_INVALID (403) when the signature is wrong or expired. */
  verify(resource: string, exp: unknown, sig: unknown, nowS = Math.floor(Date.now() / 1000)): void {
    const e = Number(exp);
    if (typeof sig !== "string" || !Number.isInteger(e)) throw new FramemindError("FM_ERR_SERVER_LINK_INVALID", { reason: "missing exp or sig" });
    const want = Buffer.from(this.mac(resource, e));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw new FramemindError("FM_ERR_SERVER_LINK_INVALID", { reason: "bad signature" });
    if (e < nowS) throw new FramemindError("FM_ERR_SERVER_LINK_INVALID", { reason: `expired at ${new Date(e * 1000).toISOString()}` });
  }

  private mac(resource: string, exp: number): string {
    return createHmac("sha256", this.secret).update(`${resource}.${exp}`).digest("base64url");
  }
}

export interface AuthOptions extends Record<string, unknown> {
  apiKeys: readonly string[];
  signer: LinkSigner;
  /** Maps a request of a "signed" route to the resource its link signs (default: none). */
  signedResource?: (request: FastifyRequest) => string | undefined;
  onReject?: (reason: "unauthorized") => void;
}

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h !== "string") return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m?.[1]?.trim();
}

/**
 * The onRequest hook, exported so other plugins (the MCP transport) can add it to their own
 * routes; inside buildServer's protected scope it is already applied.
 */
export function createAuthHook(opts: AuthOptions): onRequestAsyncHookHandler {
  const keys = opts.apiKeys.map(digest);
  return async (request) => {
    const mode: AuthMode = request.routeOptions?.config?.auth ?? "key";
    const key = bearer(request);
    request.fmClient = key ? `key:${digest(key).toString("hex").slice(0, 16)}` : `ip:${request.ip}`;
    if (keys.length === 0 || mode === "public") return;
    if (key) {
      const d = digest(key);
      if (keys.some((k) => timingSafeEqual(k, d))) return;
    }
    if (mode === "signed") {
      const resource = opts.signedResource?.(request);
      const q = request.query as Record<string, unknown> | undefined;
      if (resource && q && (q.sig !== undefined || q.exp !== undefined)) {
        opts.signer.verify(resource, q.exp, q.sig);
        return;
      }
    }
    opts.onReject?.("unauthorized");
    throw new FramemindError("FM_ERR_SERVER_UNAUTHORIZED");
  };
}

export const authPlugin: FastifyPluginAsync<AuthOptions> = shared(async (app, opts: AuthOptions) => {
  app.addHook("onRequest", createAuthHook(opts));
});
