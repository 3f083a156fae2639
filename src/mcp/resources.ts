/**
 * Saved trajectories as MCP resources: `framemind://trajectories/{id}` (JSON records), listed and
 * completable by id. The source is the HTTP service's trajectory store when mounted there, else
 * the records this process produced (stdio).
 */
import { ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Trajectory } from "../agent/trajectory.js";
import type { TrajectoryStore } from "../server/store.js";
import { FramemindError } from "../errors.js";
import type { SessionContext } from "./session.js";

export const TRAJECTORY_URI = "framemind://trajectories/{id}";
export const trajectoryUri = (id: string) => `framemind://trajectories/${encodeURIComponent(id)}`;

export interface TrajectorySummary {
  id: string;
  question?: string;
  createdAt?: string;
}

/** Where records come from; the HTTP server's store satisfies it through a thin adapter. */
export interface TrajectorySource {
  get(id: string): Promise<Trajectory | undefined>;
  list(): Promise<TrajectorySummary[]>;
  /** Keeps a record video_qa produced (optional: a read-only source ignores new records). */
  save?(record: Trajectory): Promise<void>;
}

/** The last `cap` records of this process, newest first. */
export class MemoryTrajectories implements TrajectorySource {
  private readonly records = new Map<string, Trajectory>();
  constructor(private readonly cap = 200) {}
  async get(id: string) {
    return this.records.get(id);
  }
  async list() {
    return [...this.records.values()].reverse().map((r) => ({ id: r.id, question: r.question, createdAt: r.createdAt }));
  }
  async save(record: Trajectory) {
    this.records.set(record.id, record);
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.records.size > this.cap) this.records.delete(this.records.keys().next().value!);
  }
}

/** The HTTP service's on-disk store (same folder, same records) as a source. */
export function storeSource(store: TrajectoryStore): TrajectorySource {
  return {
    get: async (id) => (await store.get(id))?.record,
    list: () => store.list(),
    save: async (record) => void (await store.save(record)),
  };
}

export function registerTrajectoryResources(s: SessionContext): void {
  const source = s.runtime.trajectories;
  if (!source) return;
  s.server.registerResource(
    "trajectory",
    new ResourceTemplate(TRAJECTORY_URI, {
      list: async () => ({
        resources: (await source.list()).map((t) => ({
          uri: trajectoryUri(t.id),
          name: `trajectory ${t.id}`,
          ...(t.question ? { description: t.question } : {}),
          mimeType: "application/json",
        })),
      }),
      complete: {
        id: async (value) => (await source.list()).map((t) => t.id).filter((id) => id.startsWith(value)).slice(0, 100),
      },
    }),
    {
      title: "FrameMind trajectory",
      description: "A saved video_qa trajectory record (JSON): every turn's reasoning, tool call, frames seen, timings and the answer.",
      mimeType: "application/json",
    },
    async (uri, vars) => {
      const id = decodeURIComponent(String(vars.id));
      const record = await source.get(id);
      // A resource error is a JSON-RPC error by protocol; the message still says what exists.
      if (!record) throw new FramemindError("FM_ERR_SERVER_NOT_FOUND", { what: "trajectory (list resources for the saved ids)", id });
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(record, null, 2) }] };
    },
  );
}
