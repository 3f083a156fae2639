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
  /**
   * Where in the picture the evidence is, [x0, y0, x1, y1] as fractions of its width and height:
   * a zoomed frame (a region crop) shows the evidence only when its crop holds all of this box.
   */
  region: z.array(z.number().min(0).max(1)).length(4).optional(),
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
  .superRefine((i, ctx) => {
    if (i.answer_type === "option" && (i.options === undefined || !/^[A-Z]$/.test(i.answer))) {
      ctx.addIssue({ code: "custom", path: ["answer"], message: "option questions need options and a single-letter answer" });
    }
    if (i.options?.some((o, k) => o.charCodeAt(0) !== 65 + k)) {
      ctx.addIssue({ code: "custom", path: ["options"], message: "options must be lettered A, B, C, ... in order" });
    }
    if (i.answer_type === "option" && i.options && /^[A-Z]$/.test(i.answer) && i.answer.charCodeAt(0) - 65 >= i.options.length) {
      ctx.addIssue({ code: "custom", path: ["answer"], message: `answer '${i.answer}' names no option (${i.options.length} options)` });
    }
    if ((i.answer_type === "number" || i.answer_type === "time") && !Number.isFinite(Number(i.answer))) {
      ctx.addIssue({ code: "custom", path: ["answer"], message: `${i.answer_type} answers must be numbers, got '${i.answer}'` });
    }
  });
export type DatasetItem = z.infer<typeof DatasetItem>;
