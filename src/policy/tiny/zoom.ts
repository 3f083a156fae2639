/**
 * How the embedded model writes a zoom (session 21). It learns to point at a place among the few
 * patches in sight (bench:reading-probe --view point), not to write four corners that agree with
 * each other (trained on corners, it wrote crops 0.05 of the picture tall). So in its own text a
 * call's `region` is only the crop's centre [x, y], and the crop's size follows from what is in view:
 *  - whole frames in view: half the picture each way (SIGN_ZOOM_SIDE), the centre in the
 *    picture's fractions (0.001): the sign's part of the picture;
 *  - a crop in view: READ_ZOOM_PX source pixels kept inside that crop, the centre in the crop's own
 *    fractions (0.01), so the model never adds offsets: the text itself.
 * zoomsAsWritten turns a call's region into that shorthand (training targets); calledRegion and
 * zoomsAsCalled turn it back into the region the tools take (the policy's calls, its guide).
 */
import { mapCallRegion } from "../../agent/protocol.js";
import type { GuideSchema } from "../../agent/guide.js";
import type { Region, Size } from "../../video/index.js";

/** The first zoom's side, as a fraction of the picture. */
export const SIGN_ZOOM_SIDE = 0.5;

/**
 * Source pixels of a zoom made inside a crop: a little over 3 x 2 patches, so `regionCut` rounds
 * it to 84 x 56 whatever the rounding of its centre (a crop a pixel under 84 x 56 would be floored
 * to 56 x 28, Qwen's resize being capped at the source's pixels).
 */
export const READ_ZOOM_PX = { width: 90, height: 62 } as const;

const onGrid = (steps: number) => (v: number) => Math.round(v * steps) / steps;
/** A point given in the fractions of the crop `view`, in the picture's. */
export function pointInPicture(view: Region, p: readonly number[]): [number, number] {
  return [view[0] + p[0]! * (view[2] - view[0]), view[1] + p[1]! * (view[3] - view[1])];
}

/** A point of the picture in the crop `view`'s own fractions, clamped to its edges. */
export function pointInView(view: Region, p: readonly number[]): [number, number] {
  const at = (v: number, lo: number, hi: number) => Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
  return [at(p[0]!, view[0], view[2]), at(p[1]!, view[1], view[3])];
}

/** The crop a zoom centred at `centre` (the picture's fractions) gets, with `view` the crop in sight (if any). */
export function zoomAt(centre: readonly [number, number], video: Size, view?: Region): Region {
  const within = view ?? [0, 0, 1, 1];
  const side = (c: number, size: number, lo: number, hi: number) => {
    const w = Math.min(size, hi - lo);
    const a = Math.min(hi - w, Math.max(lo, c - w / 2));
    return [onGrid(1000)(a), Math.min(hi, onGrid(1000)(a + w))] as const;
  };
  const [x0, x1] = side(centre[0], view ? READ_ZOOM_PX.width / video.width : SIGN_ZOOM_SIDE, within[0], within[2]);
  const [y0, y1] = side(centre[1], view ? READ_ZOOM_PX.height / video.height : SIGN_ZOOM_SIDE, within[1], within[3]);
  return [x0, y0, x1, y1];
}

/** A region as the model writes it: its centre, in the fractions of the crop in view (0.01) or of the picture (0.001). */
export function writtenZoom(r: Region, view?: Region): [number, number] {
  const c = [(r[0] + r[2]) / 2, (r[1] + r[3]) / 2];
  return view ? (pointInView(view, c).map(onGrid(100)) as [number, number]) : (c.map(onGrid(1000)) as [number, number]);
}

/** The region a written zoom (a centre) asks for; anything else is passed on for the parser to judge. */
export function calledRegion(written: readonly unknown[], video: Size, view?: Region): readonly unknown[] {
  if (written.length !== 2 || !written.every((v) => typeof v === "number")) return written;
  const c = written as readonly number[];
  return zoomAt(view ? pointInPicture(view, c) : [c[0]!, c[1]!], video, view);
}

/** A turn's text as the model writes it (its call's region as a centre). */
export function zoomsAsWritten(text: string, view?: Region): string {
  return mapCallRegion(text, (r) => (r.length === 4 ? writtenZoom(r as Region, view) : r));
}

/** The model's text as the tools take it (a centre becomes its crop). */
export function zoomsAsCalled(text: string, video: Size, view?: Region): string {
  return mapCallRegion(text, (r) => calledRegion(r, video, view) as number[]);
}

/** The `region` argument as the model writes it: two fractions, the crop's centre. */
export const WRITTEN_ZOOM_SCHEMA: GuideSchema = { type: "array", items: { type: "number", minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2 };
