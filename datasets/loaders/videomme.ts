/**
 * Video-MME: either the released JSON (a list of videos `{video_id, duration, domain,
 * sub_category, url, videoID, questions: [{question_id, task_type, question, options, answer}]}`)
 * or the Hugging Face rows (the same fields flattened, one question per row). Options come
 * lettered ("A. ..."); videos are named by their YouTube id (`videoID`).
 */
import { z } from "zod";
import { letterOptions, type ImportResult, type RawItem } from "./common.js";

const Question = z.object({
  question_id: z.coerce.string(),
  task_type: z.string().optional(),
  question: z.string().min(1),
  options: z.array(z.string()).min(2),
  answer: z.string().regex(/^[A-Z]$/),
});
const VideoFields = z.object({
  video_id: z.coerce.string(),
  duration: z.string().optional(),
  domain: z.string().optional(),
  sub_category: z.string().optional(),
  videoID: z.string().min(1),
});
const Nested = VideoFields.extend({ questions: z.array(z.unknown()) });
const Flat = VideoFields.extend(Question.shape);

function toItem(v: z.infer<typeof VideoFields>, q: z.infer<typeof Question>): RawItem {
  return {
    id: `videomme-${q.question_id}`,
    videoRef: v.videoID,
    question: q.question,
    options: letterOptions(q.options),
    answer: q.answer,
    answer_type: "option",
    meta: { source: "videomme", video_id: v.video_id, duration: v.duration, domain: v.domain, sub_category: v.sub_category, task_type: q.task_type },
  };
}

const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");

export function mapVideomme(entries: unknown[], _file: string, skipped: ImportResult["skipped"]): RawItem[] {
  const out: RawItem[] = [];
  entries.forEach((e, index) => {
    if (typeof e === "object" && e !== null && "questions" in e) {
      const v = Nested.safeParse(e);
      if (!v.success) return skipped.push({ index, reason: issues(v.error) });
      v.data.questions.forEach((raw, k) => {
        const q = Question.safeParse(raw);
        if (!q.success) skipped.push({ index, reason: `questions.${k}: ${issues(q.error)}` });
        else out.push(toItem(v.data, q.data));
      });
      return;
    }
    const f = Flat.safeParse(e);
    if (!f.success) return skipped.push({ index, reason: issues(f.error) });
    out.push(toItem(f.data, f.data));
  });
  return out;
}
