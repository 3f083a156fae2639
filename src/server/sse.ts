/**
 * Server-sent events on a hijacked reply: headers set by earlier hooks (rate-limit counters) are
 * kept, a comment line every 15 s keeps proxies from timing the stream out, and writes after the
 * client left are dropped (the request's cancel signal stops the work).
 */
import type { FastifyReply } from "fastify";

export interface SseStream {
  /** `event: <name>` + JSON data; name omitted for OpenAI-style `data:`-only streams. */
  send(data: unknown, event?: string): void;
  /** A raw `data:` line (e.g. OpenAI's `[DONE]`). */
  raw(data: string): void;
  end(): void;
  readonly closed: boolean;
}

export function openSse(reply: FastifyReply): SseStream {
  reply.hijack();
  const res = reply.raw;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = String(v);
  res.writeHead(200, {
    ...headers,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  const beat = setInterval(() => write(": keep-alive\n\n"), 15_000);
  beat.unref();
  let closed = false;
  res.once("close", () => {
    closed = true;
    clearInterval(beat);
  });
  function write(s: string): void {
    if (!closed && !res.writableEnded) res.write(s);
  }
  return {
    send(data, event) {
      write(`${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
    },
    raw(data) {
      write(`data: ${data}\n\n`);
    },
    end() {
      clearInterval(beat);
      if (!res.writableEnded) res.end();
    },
    get closed() {
      return closed;
    },
  };
}

/** The client asked for a stream (body flag, or Accept: text/event-stream). */
export function wantsStream(flag: boolean | undefined, accept: string | undefined): boolean {
  return flag ?? /\btext\/event-stream\b/i.test(accept ?? "");
}
