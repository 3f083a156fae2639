/**
 * MVBench (OpenGVLab): one JSON file per task, a list of
 * `{video, question, candidates: [text...], answer: text, start?, end?, accurate_start?}`;
 * the answer is the text of one candidate. The task name is the file's name.
 */
import { basename } from "node:path";
import { z } from "zod";
import { answerLetter, letterOptions, type ImportResult, type RawItem } from "./common.js";

const Entry = z.object({
  video: z.string().min(1),
  question: z.string().min(1),
  candidates: z.array(z.coerce.string()).min(2),
  answer: z.coerce.string(),
  start: z.number().optional(),
  end: z.number().optional(),
});

export function mapMvbench(entries: unknown[], file: string, skipped: ImportResult["skipped"]): RawItem[] {
  const task = basename(file).replace(/\.jsonl?$/i, "");
  const out: RawItem[] = [];
  entries.forEach((e, index) => {
    const r = Entry.safeParse(e);
    if (!r.success) return skipped.push({ index, reason: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
    const letter = answerLetter(r.data.candidates, r.data.answer);
    if (!letter) return skipped.push({ index, reason: `answer '${r.data.answer}' is not one of the candidates` });
    out.push({
      id: `mvbench-${task}-${index}`,
      videoRef: r.data.video,
      question: r.data.question,
      options: letterOptions(r.data.candidates),
      answer: letter,
      answer_type: "option",
      meta: { source: "mvbench", task, ...(r.data.start !== undefined && r.data.end !== undefined ? { bound: [r.data.start, r.data.end] } : {}) },
    });
  });
  return out;
}
