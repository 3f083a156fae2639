/**
 * MLVU: one JSON file per task (e.g. `1_plotQA.json`), a list of
 * `{video, duration, question, candidates?, answer, question_type}`. Multiple-choice tasks give
 * the answer as candidate text; generation tasks (sub-scene captioning, summarization) have no
 * candidates and a free-text answer.
 */
import { z } from "zod";
import { answerLetter, letterOptions, type ImportResult, type RawItem } from "./common.js";

const Entry = z.object({
  video: z.string().min(1),
  duration: z.number().optional(),
  question: z.string().min(1),
  candidates: z.array(z.coerce.string()).min(2).optional(),
  answer: z.coerce.string(),
  question_type: z.string().optional(),
  question_id: z.coerce.string().optional(),
});

export function mapMlvu(entries: unknown[], file: string, skipped: ImportResult["skipped"]): RawItem[] {
  const task = (file.split(/[\\/]/).pop() ?? "mlvu").replace(/\.jsonl?$/i, "");
  const out: RawItem[] = [];
  entries.forEach((e, index) => {
    const r = Entry.safeParse(e);
    if (!r.success) return skipped.push({ index, reason: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
    const d = r.data;
    const meta = { source: "mlvu", task, question_type: d.question_type ?? task, ...(d.duration !== undefined ? { duration: d.duration } : {}) };
    const id = `mlvu-${task}-${d.question_id ?? index}`;
    if (d.candidates) {
      const letter = answerLetter(d.candidates, d.answer) ?? (/^[A-Z]$/.test(d.answer) ? d.answer : undefined);
      if (!letter) return skipped.push({ index, reason: `answer '${d.answer}' is not one of the candidates` });
      out.push({ id, videoRef: d.video, question: d.question, options: letterOptions(d.candidates), answer: letter, answer_type: "option", meta });
    } else {
      out.push({ id, videoRef: d.video, question: d.question, answer: d.answer, answer_type: "text", meta });
    }
  });
  return out;
}
