/**
 * Writes display rotation into an MP4/MOV file's video track header (tkhd matrix), in place.
 * ffmpeg sets it differently per version (a `rotate` tag up to 4.x, ignored by 5.x;
 * `-display_rotation` from 6.0), so encodeVideo patches the box itself: one path for every version.
 */
import { open } from "node:fs/promises";
import { FramemindError } from "../errors.js";

interface Box {
  type: string;
  /** Offset of the box header within the buffer. */
  start: number;
  /** Offset of the payload. */
  body: number;
  end: number;
}

function boxes(buf: Buffer, from: number, to: number): Box[] {
  const out: Box[] = [];
  let off = from;
  while (off + 8 <= to) {
    let size = buf.readUInt32BE(off);
    const type = buf.toString("latin1", off + 4, off + 8);
    let body = off + 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(off + 8));
      body = off + 16;
    } else if (size === 0) size = to - off;
    if (size < body - off || off + size > to) break;
    out.push({ type, start: off, body, end: off + size });
    off += size;
  }
  return out;
}

/** ffmpeg's movenc matrices for clockwise display rotation (a, b, c, d, tx, ty). */
function matrix(clockwise: 0 | 90 | 180 | 270, w: number, h: number): Buffer {
  const [a, b, c, d, tx, ty] = clockwise === 90 ? [0, 1, -1, 0, h, 0] : clockwise === 180 ? [-1, 0, 0, -1, w, h] : clockwise === 270 ? [0, -1, 1, 0, 0, w] : [1, 0, 0, 1, 0, 0];
  const m = Buffer.alloc(36);
  [a, b, 0, c, d, 0, tx, ty].forEach((v, i) => m.writeInt32BE(i === 2 || i === 5 ? 0 : v * 65536, i * 4));
  m.writeInt32BE(1 << 30, 32);
  return m;
}

/** Sets the clockwise display rotation of the first video track of an MP4/MOV file. */
export async function setMp4Rotation(path: string, clockwise: 0 | 90 | 180 | 270, size: { width: number; height: number }): Promise<void> {
  const fh = await open(path, "r+");
  try {
    const { size: fileSize } = await fh.stat();
    // Walk the top level by headers only: mdat may be large.
    let off = 0;
    let moov: { start: number; len: number } | undefined;
    const head = Buffer.alloc(16);
    while (off + 8 <= fileSize) {
      await fh.read(head, 0, 16, off);
      let len = head.readUInt32BE(0);
      if (len === 1) len = Number(head.readBigUInt64BE(8));
      else if (len === 0) len = fileSize - off;
      if (len < 8) break;
      if (head.toString("latin1", 4, 8) === "moov") moov = { start: off, len };
      off += len;
    }
    if (!moov) throw new FramemindError("FM_ERR_VIDEO_CORRUPT", { path, reason: "no moov box to hold the rotation" });
    const buf = Buffer.alloc(moov.len);
    await fh.read(buf, 0, moov.len, moov.start);
    const top = boxes(buf, 0, buf.length)[0]!;
    for (const trak of boxes(buf, top.body, top.end).filter((b) => b.type === "trak")) {
      const kids = boxes(buf, trak.body, trak.end);
      const mdia = kids.find((b) => b.type === "mdia");
      const hdlr = mdia && boxes(buf, mdia.body, mdia.end).find((b) => b.type === "hdlr");
      // hdlr: version/flags (4), pre_defined (4), handler_type (4)
      if (!hdlr || buf.toString("latin1", hdlr.body + 8, hdlr.body + 12) !== "vide") continue;
      const tkhd = kids.find((b) => b.type === "tkhd");
      if (!tkhd) break;
      // tkhd v0: 4 + 20 + 8 reserved + 8 (layer, group, volume, reserved) -> matrix at 40; v1: 4 + 32 + 16 -> 52.
      const at = tkhd.body + (buf[tkhd.body] === 1 ? 52 : 40);
      matrix(clockwise, size.width, size.height).copy(buf, at);
      await fh.write(buf, at, 36, moov.start + at);
      return;
    }
    throw new FramemindError("FM_ERR_VIDEO_CORRUPT", { path, reason: "no video track to hold the rotation" });
  } finally {
    await fh.close();
  }
}
