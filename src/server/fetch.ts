/**
 * Video URLs: http(s) downloads with the target checked AFTER DNS resolution (every address the
 * name resolves to must be public; the connection is then pinned to the checked address, so a
 * second lookup cannot rebind it to an internal one), each redirect checked again, the size
 * bounded while streaming, and a timeout. Also data: URLs (decoded to a temp file) and file://
 * URLs (a path inside the roots, checked by the video layer).
 */
import { createWriteStream } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { lookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { FramemindError } from "../errors.js";
import { newId } from "./uploads.js";

export interface UrlPolicy {
  enabled: boolean;
  allowLoopback: boolean;
  allowPrivate: boolean;
  timeoutMs: number;
  maxRedirects: number;
  maxBytes: number;
}

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** Private, link-local, unspecified, CGNAT, multicast, reserved and documentation ranges. */
const internal = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) internal.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["2001:db8::", 32],
  ["64:ff9b::", 96],
] as const) internal.addSubnet(net, bits, "ipv6");

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it carries. */
function unmap(address: string): { address: string; family: "ipv4" | "ipv6" } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, family: "ipv4" };
  return { address, family: isIP(address) === 6 ? "ipv6" : "ipv4" };
}

/** Why an address is refused, or undefined when it may be reached. */
export function addressRefusal(address: string, policy: Pick<UrlPolicy, "allowLoopback" | "allowPrivate">): string | undefined {
  const a = unmap(address);
  if (loopback.check(a.address, a.family)) return policy.allowLoopback ? undefined : `${address} is a loopback address`;
  if (internal.check(a.address, a.family)) return policy.allowPrivate ? undefined : `${address} is a private, link-local or reserved address`;
  return undefined;
}

/** Resolves a host and checks every address it maps to; returns the first (pinned) address. */
async function resolvePublic(host: string, policy: UrlPolicy): Promise<{ address: string; family: number }> {
  const bare = host.replace(/^\[|\]$/g, "");
  let addrs: Array<{ address: string; family: number }>;
  if (isIP(bare)) addrs = [{ address: bare, family: isIP(bare) }];
  else {
    try {
      addrs = await lookup(bare, { all: true, verbatim: true });
    } catch (e) {
      throw new FramemindError("FM_ERR_SERVER_URL_FAILED", { url: host, reason: `DNS lookup failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
    }
  }
  if (addrs.length === 0) throw new FramemindError("FM_ERR_SERVER_URL_FAILED", { url: host, reason: "the name has no address" });
  for (const a of addrs) {
    const why = addressRefusal(a.address, policy);
    if (why) throw new FramemindError("FM_ERR_SERVER_URL_DENIED", { reason: `${host} resolves to ${why}` });
  }
  return addrs[0]!;
}

function parseHttpUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `not a URL: ${raw.slice(0, 200)}` });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new FramemindError("FM_ERR_SERVER_URL_DENIED", { reason: `scheme ${u.protocol} is not allowed (http, https)` });
  if (u.username || u.password) throw new FramemindError("FM_ERR_SERVER_URL_DENIED", { reason: "credentials in URLs are not allowed" });
  return u;
}

/** Downloads an http(s) URL into `dir`; returns the file path (removed on any failure). */
export async function downloadUrl(raw: string, dir: string, policy: UrlPolicy, signal?: AbortSignal): Promise<string> {
  if (!policy.enabled) throw new FramemindError("FM_ERR_SERVER_URL_DENIED", { reason: "URL input is disabled on this server (enable it with urls.enabled in the config)" });
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${newId("dl")}.bin`);
  const timeout = AbortSignal.timeout(policy.timeoutMs);
  const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let url = parseHttpUrl(raw);
  try {
    for (let hop = 0; ; hop++) {
      const target = await resolvePublic(url.hostname, policy);
      const res = await get(url, target, sig);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hop >= policy.maxRedirects) throw new FramemindError("FM_ERR_SERVER_URL_FAILED", { url: raw, reason: `more than ${policy.maxRedirects} redirects` });
        url = parseHttpUrl(new URL(res.headers.location, url).toString());
        continue;
      }
      if (status !== 200) {
        res.resume();
        throw new FramemindError("FM_ERR_SERVER_URL_FAILED", { url: raw, reason: `HTTP ${status}` });
      }
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > policy.maxBytes) {
        res.destroy();
        throw new FramemindError("FM_ERR_SERVER_PAYLOAD_TOO_LARGE", { what: "the downloaded video", limit: policy.maxBytes });
      }
      let bytes = 0;
      const cap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          if (bytes > policy.maxBytes) cb(new FramemindError("FM_ERR_SERVER_PAYLOAD_TOO_LARGE", { what: "the downloaded video", limit: policy.maxBytes }));
          else cb(null, chunk);
        },
      });
      await pipeline(res, cap, createWriteStream(path), { signal: sig });
      return path;
    }
  } catch (e) {
    await rm(path, { force: true });
    if (e instanceof FramemindError) throw e;
    if (signal?.aborted) throw new FramemindError("FM_ERR_CANCELLED");
    if (timeout.aborted) throw new FramemindError("FM_ERR_SERVER_URL_FAILED", { url: raw, reason: `no complete reply within ${policy.timeoutMs} ms` });
    throw new FramemindError("FM_ERR_SERVER_URL_FAILED", { url: raw, reason: (e as Error).message });
  }
}

function get(url: URL, target: { address: string; family: number }, signal: AbortSignal): Promise<http.IncomingMessage> {
  // Pin the connection to the address that was checked (TLS still verifies the host name).
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  const mod = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { lookup: pinned, signal, headers: { "user-agent": "framemind", accept: "video/*, */*" } }, resolve);
    req.on("error", reject);
  });
}

/** The bytes of a `data:[mime][;base64],...` URL (`what` names it in errors, e.g. "the data: URL video"). */
export function parseDataUrl(raw: string, maxBytes: number, what = "the data: URL"): { mime: string; bytes: Buffer } {
  const m = /^data:([^;,]*)(;[^,]*)?,/.exec(raw.slice(0, 256));
  if (!m) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `malformed data: URL (${what})` });
  const isBase64 = /;base64/i.test(m[2] ?? "");
  const payload = raw.slice(m[0].length);
  // Buffer.from skips characters outside the alphabet silently; a damaged URL must not pass as bytes.
  if (isBase64 && /[^A-Za-z0-9+/=_\-\s]/.test(payload)) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `malformed data: URL (${what}): not base64` });
  let bytes: Buffer;
  try {
    bytes = isBase64 ? Buffer.from(payload, "base64") : Buffer.from(decodeURIComponent(payload), "latin1");
  } catch {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `malformed data: URL (${what}): bad percent-encoding` });
  }
  if (bytes.length === 0) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `${what} is empty` });
  if (bytes.length > maxBytes) throw new FramemindError("FM_ERR_SERVER_PAYLOAD_TOO_LARGE", { what, limit: maxBytes });
  return { mime: m[1] ?? "", bytes };
}

/** Decodes a `data:[mime];base64,...` URL into a temp file. */
export async function saveDataUrl(raw: string, dir: string, maxBytes: number): Promise<string> {
  const { bytes } = parseDataUrl(raw, maxBytes, "the data: URL video");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${newId("data")}.bin`);
  await writeFile(path, bytes);
  return path;
}

/** file:// URL -> path (confinement to the roots is checked by the video layer). */
export function fileUrlPath(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.host && u.host !== "localhost") throw new Error("remote host");
    return fileURLToPath(u);
  } catch {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `not a local file:// URL: ${raw.slice(0, 200)}` });
  }
}
