/**
 * The dataset format (DESIGN.md §7): JSONL, one question a line. `video` is relative to the
 * JSONL file's folder; option answers are letters; `time` answers are seconds.
 */
import { z } from "zod";

export const EvidenceInterval = z.object({
  start: z.number().min(0),
  end: z.number().min(0),
  /** Fewest pixels per frame at which the evidence is legible. */
  min_pixels: z.number().int().positive(),
});
export type EvidenceInterval = z.infer<typeof EvidenceInterval>;

export const AnswerType = z.enum(["option", "number", "word", "text", "time"]);
export type AnswerType = z.infer<typeof AnswerType>;

export const DatasetItem = z
  .object({
    id: z.string().min(1),
    video: z.string().min(1),
    question: z.string().min(1),
    /** "A. red", "B. blue", ... */
    options: z.array(z.string().regex(/^[A-Z]\. /, 'options look like "A. text"')).min(2).optional(),
    answer: z.string().min(1),
    answer_type: AnswerType,
    evidence: z.array(EvidenceInterval.refine((e) => e.end >= e.start, { message: "end before start" })).optional(),
    meta: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((i) => i.answer_type !== "option" || (i.options !== undefined && /^[A-Z]$/.test(i.answer)), {
    message: "option questions need options and a single-letter answer",
  });
export type DatasetItem = z.infer<typeof DatasetItem>;
