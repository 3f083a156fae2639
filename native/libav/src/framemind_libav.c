/*
 * framemind-libav: in-process frame decoding for FrameMind's video layer (src/video/native.ts).
 *
 * One call opens a file, decodes the frames shown at a list of absolute timestamps (exact) or the
 * keyframes at or before them (tolerant), scales them with swscale to WxH RGB24 (then turns them
 * upright by the display rotation) and returns Buffers with their real pts. All libav work runs
 * on the libuv thread pool (napi async work); the main thread only converts arguments/results.
 * A deadline and a cancel flag (an Int32Array the caller writes) are checked between packets and
 * by libavformat's interrupt callback. Errors carry FrameMind's FM_ERR_* codes; FM_ERR_FALLBACK
 * means "the ffmpeg CLI should handle this file" (e.g. frames without timestamps).
 */
#include <node_api.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MODE_EXACT 0
#define MODE_TOLERANT 1
/* Every frame of the file in presentation order (the per-video frame store). */
#define MODE_ALL 2
/* Targets are matched with this slack (seconds), as the CLI path does. */
#define PTS_EPS 1e-4
/* Largest output accepted per frame side (guards a caller mistake, not a file). */
#define MAX_SIDE 16384
#define LOG_KEEP 1024
/* Non-reference frames this many frame durations before a target are not decoded (exact mode). */
#define SKIP_MARGIN_FRAMES 3
/* run_from: a target's frame may have been skipped; run again from the same target without skipping. */
#define RUN_REDO (-2)

typedef struct {
  double t;
  int index;
} Target;

typedef struct {
  /* inputs */
  char *path;
  int ntargets;
  Target *targets;
  int mode;
  int width, height; /* output size, upright */
  int rotation;      /* clockwise degrees: 0, 90, 180, 270 */
  double merge_gap;  /* continue decoding instead of seeking when the next target is this close */
  double frame_dur;
  int threads;
  int64_t deadline_ns; /* 0 = none */
  volatile int32_t *cancel;
  napi_ref cancel_ref;
  int want_frames; /* 0 = probe only */
  int max_frames;  /* MODE_ALL: refuse files with more frames */
  uint8_t *keys;   /* MODE_ALL: keyframe flags */
  /* outputs */
  double *pts;       /* per request index, seconds (file timeline) */
  uint8_t **frames;  /* per request index, width*height*3 bytes */
  char code[48];
  char message[512];
  char log[LOG_KEEP];
  /* probe outputs */
  int coded_w, coded_h;
  char codec[32], pix_fmt[32];
  double start_time, duration, fps, time_base;
  int stream_rotation;
  napi_async_work work;
  napi_ref callback;
} Job;

static _Thread_local Job *current_job;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Keeps the last error lines of libav for the job running on this thread (others are dropped). */
static void log_callback(void *avcl, int level, const char *fmt, va_list vl) {
  (void)avcl;
  Job *j = current_job;
  if (!j || level > AV_LOG_ERROR) return;
  char line[256];
  vsnprintf(line, sizeof line, fmt, vl);
  size_t have = strlen(j->log), add = strlen(line);
  if (add >= LOG_KEEP) return;
  if (have + add >= LOG_KEEP) {
    j->log[0] = 0;
    have = 0;
  }
  memcpy(j->log + have, line, add + 1);
}

static int stopped(Job *j) {
  if (j->cancel && __atomic_load_n(j->cancel, __ATOMIC_RELAXED)) return 1;
  if (j->deadline_ns && now_ns() > j->deadline_ns) return 2;
  return 0;
}

static int interrupt_cb(void *opaque) { return stopped((Job *)opaque) != 0; }

static int fail(Job *j, const char *code, const char *fmt, ...) {
  if (j->code[0]) return -1; /* the first failure wins */
  snprintf(j->code, sizeof j->code, "%s", code);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(j->message, sizeof j->message, fmt, ap);
  va_end(ap);
  return -1;
}

static int fail_stopped(Job *j) {
  return stopped(j) == 1 ? fail(j, "FM_ERR_CANCELLED", "cancelled") : fail(j, "FM_ERR_VIDEO_TIMEOUT", "the in-process decode took too long");
}

static int fail_av(Job *j, const char *code, const char *what, int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return fail(j, code, "%s: %s", what, buf);
}

typedef struct {
  Job *job;
  AVFormatContext *fmt;
  AVCodecContext *dec;
  AVStream *st;
  int sidx;
  AVPacket *pkt;
  AVFrame *cur, *prev; /* prev: the last frame with pts <= the pending target, since the last seek */
  int have_prev;
  struct SwsContext *sws;
  uint8_t *tmp; /* scaled, before rotation */
  int eof;      /* demuxer exhausted and decoder flushed */
  int sent_flush;
  int pkt_pending; /* d->pkt was refused with EAGAIN: send it again after draining */
  double start; /* stream start (seconds) */
  /*
   * Exact mode skips non-reference frames (nothing else needs them) whose packet pts is before
   * skip_before (the pending target minus a margin). skipped_max is the latest pts sent while
   * skipping since the last seek: if it lies after the frame chosen for a target, that target's
   * frame may have been skipped (a long variable-rate frame) and the run is redone without skipping.
   */
  int allow_skip;
  double skip_before;
  double skipped_max;
} Dec;

/* The first video stream that is not a cover picture (as probe.ts picks it). */
static int pick_stream(AVFormatContext *fmt) {
  for (unsigned i = 0; i < fmt->nb_streams; i++) {
    AVStream *s = fmt->streams[i];
    if (s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(s->disposition & AV_DISPOSITION_ATTACHED_PIC)) return (int)i;
  }
  return -1;
}

/* The display matrix (9 x 16.16/2.30 fixed point) of a stream, or NULL. */
static const int32_t *display_matrix(AVStream *st) {
#if LIBAVFORMAT_VERSION_MAJOR >= 61
  const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data, st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
  const uint8_t *m = sd ? sd->data : NULL;
  size_t size = sd ? sd->size : 0;
#else
  size_t size = 0;
  const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
#endif
  return m && size >= 9 * sizeof(int32_t) ? (const int32_t *)m : NULL;
}

static int read_rotation(AVStream *st) {
  const int32_t *m = display_matrix(st);
  if (!m) return 0;
  double r = av_display_rotation_get(m);
  if (!isfinite(r)) return 0;
  long cw = -lround(r);
  return (int)(((cw % 360) + 360) % 360);
}

static int open_input(Dec *d) {
  Job *j = d->job;
  d->fmt = avformat_alloc_context();
  if (!d->fmt) return fail(j, "FM_ERR_INTERNAL", "out of memory");
  d->fmt->interrupt_callback.callback = interrupt_cb;
  d->fmt->interrupt_callback.opaque = j;
  int err = avformat_open_input(&d->fmt, j->path, NULL, NULL);
  if (err < 0) {
    d->fmt = NULL; /* freed by avformat_open_input on failure */
    if (stopped(j)) return fail_stopped(j);
    return fail_av(j, "FM_ERR_VIDEO_NOT_A_VIDEO", "cannot open", err);
  }
  /*
   * MP4/MOV and Matroska/WebM headers describe the stream fully: skip find_stream_info, which
   * decodes frames just to learn what the decoder learns anyway (tens of ms per open at 720p).
   */
  d->sidx = pick_stream(d->fmt);
  const char *iname = d->fmt->iformat ? d->fmt->iformat->name : "";
  int header_complete = d->sidx >= 0 && (strstr(iname, "mp4") || strstr(iname, "matroska")) && d->fmt->streams[d->sidx]->codecpar->codec_id != AV_CODEC_ID_NONE &&
                        d->fmt->streams[d->sidx]->codecpar->width > 0 && d->fmt->streams[d->sidx]->codecpar->height > 0;
  if (!header_complete || !j->want_frames) {
    err = avformat_find_stream_info(d->fmt, NULL);
    if (stopped(j)) return fail_stopped(j);
    if (err < 0) return fail_av(j, "FM_ERR_VIDEO_CORRUPT", "cannot read stream info", err);
    d->sidx = pick_stream(d->fmt);
  }
  if (d->sidx < 0) return fail(j, "FM_ERR_VIDEO_NO_VIDEO_STREAM", "no video stream");
  d->st = d->fmt->streams[d->sidx];
  for (unsigned i = 0; i < d->fmt->nb_streams; i++)
    if ((int)i != d->sidx) d->fmt->streams[i]->discard = AVDISCARD_ALL;
  AVCodecParameters *par = d->st->codecpar;
  const AVCodec *codec = avcodec_find_decoder(par->codec_id);
  const char *cname = avcodec_get_name(par->codec_id);
  snprintf(j->codec, sizeof j->codec, "%s", cname ? cname : "unknown");
  if (!codec) return fail(j, "FM_ERR_VIDEO_UNSUPPORTED_CODEC", "no decoder for %s", j->codec);
  d->dec = avcodec_alloc_context3(codec);
  if (!d->dec) return fail(j, "FM_ERR_INTERNAL", "out of memory");
  if ((err = avcodec_parameters_to_context(d->dec, par)) < 0) return fail_av(j, "FM_ERR_VIDEO_CORRUPT", "bad codec parameters", err);
  d->dec->pkt_timebase = d->st->time_base;
  d->dec->thread_count = j->threads;
  /* Tolerant: no skip_frame=nokey; the decoder would hold the keyframe back for reordering until later keyframes arrive. */
  if ((err = avcodec_open2(d->dec, codec, NULL)) < 0) return fail_av(j, "FM_ERR_VIDEO_UNSUPPORTED_CODEC", "cannot open decoder", err);
  d->start = d->st->start_time != AV_NOPTS_VALUE ? d->st->start_time * av_q2d(d->st->time_base)
             : d->fmt->start_time != AV_NOPTS_VALUE ? d->fmt->start_time / (double)AV_TIME_BASE : 0;
  j->coded_w = par->width;
  j->coded_h = par->height;
  const char *pf = av_get_pix_fmt_name((enum AVPixelFormat)par->format);
  snprintf(j->pix_fmt, sizeof j->pix_fmt, "%s", pf ? pf : "unknown");
  j->start_time = d->fmt->start_time != AV_NOPTS_VALUE ? d->fmt->start_time / (double)AV_TIME_BASE : d->start;
  j->duration = d->fmt->duration != AV_NOPTS_VALUE ? d->fmt->duration / (double)AV_TIME_BASE : -1;
  AVRational fr = d->st->avg_frame_rate.num > 0 ? d->st->avg_frame_rate : d->st->r_frame_rate;
  j->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
  j->time_base = av_q2d(d->st->time_base);
  j->stream_rotation = read_rotation(d->st);
  /*
   * The caller turns frames by probe's rotation; ffmpeg's autorotate also mirrors. A mirroring
   * matrix, or a rotation other than the caller's, is left to the CLI so both paths agree.
   */
  const int32_t *m = display_matrix(d->st);
  if (j->want_frames && m && ((double)m[0] * m[4] - (double)m[1] * m[3] < 0 || j->stream_rotation != j->rotation))
    return fail(j, "FM_ERR_FALLBACK", "display matrix with mirroring or another rotation");
  if (!(d->pkt = av_packet_alloc()) || !(d->cur = av_frame_alloc()) || !(d->prev = av_frame_alloc())) return fail(j, "FM_ERR_INTERNAL", "out of memory");
  return 0;
}

static void close_dec(Dec *d) {
  sws_freeContext(d->sws);
  av_free(d->tmp);
  av_frame_free(&d->cur);
  av_frame_free(&d->prev);
  av_packet_free(&d->pkt);
  avcodec_free_context(&d->dec);
  avformat_close_input(&d->fmt);
}

/*
 * Seeks to the keyframe at or before `t` (seconds, file timeline). Exact mode rounds `t` down to
 * the stream's time base; tolerant mode to the nearest tick, as ffmpeg's -ss does (the CLI path's
 * tolerant frames depend on it for coarse time bases such as AVI's frame numbers).
 */
static int seek_to(Dec *d, double t) {
  Job *j = d->job;
  int64_t ts = j->mode == MODE_TOLERANT ? av_rescale_q(llround(t * AV_TIME_BASE), AV_TIME_BASE_Q, d->st->time_base) : (int64_t)floor(t / av_q2d(d->st->time_base));
  int err = av_seek_frame(d->fmt, d->sidx, ts, AVSEEK_FLAG_BACKWARD);
  if (err < 0) err = av_seek_frame(d->fmt, -1, 0, AVSEEK_FLAG_BYTE);
  if (stopped(j)) return fail_stopped(j);
  if (err < 0) return fail_av(j, "FM_ERR_FALLBACK", "seek failed", err);
  avcodec_flush_buffers(d->dec);
  av_packet_unref(d->pkt);
  d->pkt_pending = 0;
  d->have_prev = 0;
  d->skipped_max = -INFINITY;
  d->eof = 0;
  d->sent_flush = 0;
  return 0;
}

/* Next decoded frame into d->cur: 1 = frame, 0 = end of stream, -1 = failure (j->code set). */
static int next_frame(Dec *d) {
  Job *j = d->job;
  int corrupt_packets = 0;
  for (;;) {
    if (stopped(j)) return fail_stopped(j);
    int err = avcodec_receive_frame(d->dec, d->cur);
    if (err == 0) {
      if (d->cur->best_effort_timestamp == AV_NOPTS_VALUE) return fail(j, "FM_ERR_FALLBACK", "frames without timestamps");
      if (d->cur->width <= 0 || d->cur->height <= 0 || d->cur->width > 65536 || d->cur->height > 65536) return fail(j, "FM_ERR_VIDEO_CORRUPT", "bad frame size");
      return 1;
    }
    if (err == AVERROR_EOF) {
      d->eof = 1;
      return 0;
    }
    if (err != AVERROR(EAGAIN)) return fail_av(j, "FM_ERR_VIDEO_CORRUPT", "decoding failed", err);
    if (d->sent_flush) {
      d->eof = 1;
      return 0;
    }
    if (d->pkt_pending) {
      d->pkt_pending = 0;
      err = avcodec_send_packet(d->dec, d->pkt);
      if (err == AVERROR(EAGAIN)) return fail(j, "FM_ERR_VIDEO_CORRUPT", "the decoder accepts no input");
      av_packet_unref(d->pkt);
      continue;
    }
    err = av_read_frame(d->fmt, d->pkt);
    if (err < 0) {
      if (stopped(j)) return fail_stopped(j);
      /* End of file or a read error: drain what the decoder holds. */
      avcodec_send_packet(d->dec, NULL);
      d->sent_flush = 1;
      continue;
    }
    if (d->pkt->stream_index == d->sidx) {
      int skip = 0;
      if (d->allow_skip && d->pkt->pts != AV_NOPTS_VALUE) {
        double p = d->pkt->pts * av_q2d(d->st->time_base);
        if ((skip = p < d->skip_before) && p > d->skipped_max) d->skipped_max = p;
      }
      d->dec->skip_frame = skip ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
      err = avcodec_send_packet(d->dec, d->pkt);
      if (err == AVERROR(EAGAIN)) {
        d->pkt_pending = 1; /* output first; this packet goes in on the next turn */
        continue;
      }
      /* A damaged packet is skipped, as ffmpeg does; a stream of them is a corrupt file. */
      if (err < 0 && ++corrupt_packets > 64) {
        av_packet_unref(d->pkt);
        return fail_av(j, "FM_ERR_VIDEO_CORRUPT", "decoding failed", err);
      }
    }
    av_packet_unref(d->pkt);
  }
}

static double frame_time(Dec *d, AVFrame *f) { return f->best_effort_timestamp * av_q2d(d->st->time_base); }

/* Scales (area, as the CLI's scale filter) and turns upright into a new width*height*3 buffer. */
static uint8_t *to_rgb(Dec *d, AVFrame *f) {
  Job *j = d->job;
  int rot = j->rotation;
  int sw = (rot == 90 || rot == 270) ? j->height : j->width;
  int sh = (rot == 90 || rot == 270) ? j->width : j->height;
  d->sws = sws_getCachedContext(d->sws, f->width, f->height, (enum AVPixelFormat)f->format, sw, sh, AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
  if (!d->sws) {
    fail(j, "FM_ERR_FALLBACK", "no scaler for %s", av_get_pix_fmt_name((enum AVPixelFormat)f->format) ?: "this pixel format");
    return NULL;
  }
  /* Colour matrix and range from the frame (unspecified = BT.601, as swscale and ffmpeg default). */
  int src_full = f->color_range == AVCOL_RANGE_JPEG;
  const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get((enum AVPixelFormat)f->format);
  if (desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB)) {
    int cs = f->colorspace == AVCOL_SPC_UNSPECIFIED || f->colorspace == AVCOL_SPC_RGB ? SWS_CS_DEFAULT : (int)f->colorspace;
    int *inv, *tab, in_full, out_full, bri, con, sat;
    if (sws_getColorspaceDetails(d->sws, &inv, &in_full, &tab, &out_full, &bri, &con, &sat) >= 0)
      sws_setColorspaceDetails(d->sws, sws_getCoefficients(cs), src_full || in_full, tab, out_full, bri, con, sat);
  }
  size_t bytes = (size_t)j->width * j->height * 3;
  uint8_t *out = malloc(bytes);
  if (!out) {
    fail(j, "FM_ERR_INTERNAL", "out of memory");
    return NULL;
  }
  uint8_t *dst = out;
  if (rot) {
    if (!d->tmp && !(d->tmp = av_malloc(bytes))) {
      free(out);
      fail(j, "FM_ERR_INTERNAL", "out of memory");
      return NULL;
    }
    dst = d->tmp;
  }
  uint8_t *planes[4] = {dst, NULL, NULL, NULL};
  int strides[4] = {sw * 3, 0, 0, 0};
  if (sws_scale(d->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes, strides) <= 0) {
    free(out);
    fail(j, "FM_ERR_VIDEO_CORRUPT", "scaling failed");
    return NULL;
  }
  if (rot) {
    /* Output pixel (x, y) of the upright w x h frame from the scaled sw x sh one. */
    int w = j->width, h = j->height;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        int sx = rot == 90 ? y : rot == 180 ? sw - 1 - x : sw - 1 - y;
        int sy = rot == 90 ? sh - 1 - x : rot == 180 ? sh - 1 - y : x;
        memcpy(out + ((size_t)y * w + x) * 3, dst + ((size_t)sy * sw + sx) * 3, 3);
      }
  }
  return out;
}

static int answer(Dec *d, Target *tg, AVFrame *f) {
  Job *j = d->job;
  uint8_t *rgb = to_rgb(d, f);
  if (!rgb) return -1;
  free(j->frames[tg->index]); /* answered before a redo */
  j->frames[tg->index] = rgb;
  j->pts[tg->index] = frame_time(d, f);
  return 0;
}

/*
 * Decodes from a seek before targets[i] (going further back while the first frame lands after it)
 * and answers every target up to the first one that is better reached by a new seek.
 * Returns the index of the next unanswered target, or -1.
 */
static int run_from(Dec *d, int i) {
  Job *j = d->job;
  Target *tg = j->targets;
  const int first = i;
  const double t0 = tg[i].t;
  d->skip_before = t0 - SKIP_MARGIN_FRAMES * j->frame_dur;
  const int tolerant = j->mode == MODE_TOLERANT;
  /* Tolerant: land half a frame early (some demuxers round a seek to the nearest frame). */
  double seek = tolerant ? t0 - j->frame_dur / 2 : t0;
  for (double back = 0;; back = back == 0 ? 1 : back * 4) {
    double at = seek - back;
    int from_start = at <= d->start || back > 1e5;
    if (seek_to(d, from_start ? d->start : at) < 0) return -1;
    int r = next_frame(d);
    if (r < 0) return -1;
    if (r == 0) {
      if (from_start) return fail(j, "FM_ERR_VIDEO_CORRUPT", "no frame could be decoded");
      continue; /* seeked past the last frame: go further back */
    }
    /* The seek overshot the target: go further back, unless the target is before the first frame. */
    if (frame_time(d, d->cur) > t0 + PTS_EPS && !from_start) continue;
    break;
  }
  if (tolerant) {
    /* The first keyframe decoded answers the target (and any target that lands on it). */
    if (answer(d, &tg[i], d->cur) < 0) return -1;
    return i + 1;
  }
  for (;;) {
    double p = frame_time(d, d->cur);
    while (i < j->ntargets && p > tg[i].t + PTS_EPS) {
      /* The frame shown at t is the previous one; before the first frame, the first one. */
      AVFrame *shown = d->have_prev ? d->prev : d->cur;
      if (d->skipped_max > frame_time(d, shown) + PTS_EPS) return RUN_REDO;
      if (answer(d, &tg[i], shown) < 0) return -1;
      i++;
    }
    if (i < j->ntargets) d->skip_before = tg[i].t - SKIP_MARGIN_FRAMES * j->frame_dur;
    if (i >= j->ntargets) return i;
    av_frame_unref(d->prev);
    av_frame_move_ref(d->prev, d->cur);
    d->have_prev = 1;
    /* A far target is reached faster by a new seek than by decoding on (unless this decode is that seek's). */
    if (i != first && tg[i].t - p >= j->merge_gap) return i;
    int r = next_frame(d);
    if (r < 0) return -1;
    if (r == 0) {
      /* End of stream: the last frame is shown at every later target. */
      if (d->skipped_max > frame_time(d, d->prev) + PTS_EPS) return RUN_REDO;
      while (i < j->ntargets) {
        if (answer(d, &tg[i], d->prev) < 0) return -1;
        i++;
      }
      return i;
    }
  }
}

static int cmp_target(const void *a, const void *b) {
  double x = ((const Target *)a)->t, y = ((const Target *)b)->t;
  return x < y ? -1 : x > y ? 1 : ((const Target *)a)->index - ((const Target *)b)->index;
}

/* MODE_ALL: decodes the file from its start, every frame in presentation order. */
static void decode_all(Dec *d) {
  Job *j = d->job;
  int cap = 0;
  for (;;) {
    int r = next_frame(d);
    if (r <= 0) {
      if (r == 0 && j->ntargets == 0) fail(j, "FM_ERR_VIDEO_CORRUPT", "no frame could be decoded");
      return;
    }
    if (j->ntargets >= j->max_frames) {
      fail(j, "FM_ERR_VIDEO_LIMIT", "more than %d frames", j->max_frames);
      return;
    }
    if (j->ntargets == cap) {
      cap = cap ? cap * 2 : 256;
      double *pts = realloc(j->pts, cap * sizeof(double));
      if (pts) j->pts = pts;
      uint8_t **frames = realloc(j->frames, cap * sizeof(uint8_t *));
      if (frames) j->frames = frames;
      uint8_t *keys = realloc(j->keys, (size_t)cap);
      if (keys) j->keys = keys;
      if (!pts || !frames || !keys) {
        fail(j, "FM_ERR_INTERNAL", "out of memory");
        return;
      }
    }
    Target t = {0, j->ntargets};
    j->frames[j->ntargets] = NULL;
#ifdef AV_FRAME_FLAG_KEY
    j->keys[j->ntargets] = (d->cur->flags & AV_FRAME_FLAG_KEY) != 0;
#else
    j->keys[j->ntargets] = d->cur->key_frame != 0;
#endif
    j->ntargets++;
    if (answer(d, &t, d->cur) < 0) return;
    av_frame_unref(d->cur);
  }
}

static void execute(napi_env env, void *data) {
  (void)env;
  Job *j = data;
  current_job = j;
  Dec d;
  memset(&d, 0, sizeof d);
  d.job = j;
  if (open_input(&d) == 0 && j->want_frames && j->mode == MODE_ALL) {
    decode_all(&d);
  } else if (!j->code[0] && j->want_frames) {
    qsort(j->targets, (size_t)j->ntargets, sizeof(Target), cmp_target);
    d.allow_skip = j->mode == MODE_EXACT;
    for (int i = 0; i >= 0 && i < j->ntargets;) {
      int next = run_from(&d, i);
      if (next == RUN_REDO) {
        d.allow_skip = 0;
        next = run_from(&d, i);
        d.allow_skip = 1;
      }
      i = next;
    }
  }
  close_dec(&d);
  current_job = NULL;
}

static void free_job(napi_env env, Job *j) {
  if (j->frames)
    for (int k = 0; k < j->ntargets; k++) free(j->frames[k]);
  free(j->frames);
  free(j->keys);
  free(j->pts);
  free(j->targets);
  free(j->path);
  if (j->cancel_ref) napi_delete_reference(env, j->cancel_ref);
  if (j->callback) napi_delete_reference(env, j->callback);
  if (j->work) napi_delete_async_work(env, j->work);
  free(j);
}

static void free_external(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value str(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value dbl(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

static void set(napi_env env, napi_value obj, const char *key, napi_value v) { napi_set_named_property(env, obj, key, v); }

static napi_value make_result(napi_env env, Job *j) {
  napi_value res;
  napi_create_object(env, &res);
  napi_value info;
  napi_create_object(env, &info);
  set(env, info, "codec", str(env, j->codec));
  set(env, info, "pixFmt", str(env, j->pix_fmt));
  set(env, info, "codedWidth", dbl(env, j->coded_w));
  set(env, info, "codedHeight", dbl(env, j->coded_h));
  set(env, info, "startTime", dbl(env, j->start_time));
  set(env, info, "duration", dbl(env, j->duration));
  set(env, info, "fps", dbl(env, j->fps));
  set(env, info, "timeBase", dbl(env, j->time_base));
  set(env, info, "rotation", dbl(env, j->stream_rotation));
  set(env, res, "info", info);
  if (!j->want_frames) return res;
  napi_value frames, pts;
  napi_create_array_with_length(env, (size_t)j->ntargets, &frames);
  napi_create_array_with_length(env, (size_t)j->ntargets, &pts);
  size_t bytes = (size_t)j->width * j->height * 3;
  for (int k = 0; k < j->ntargets; k++) {
    napi_value buf;
    /* Hand the malloc'd frame to a Buffer without a copy; copy where external buffers are refused. */
    if (napi_create_external_buffer(env, bytes, j->frames[k], free_external, NULL, &buf) == napi_ok) {
      j->frames[k] = NULL;
    } else {
      void *copy;
      napi_create_buffer_copy(env, bytes, j->frames[k], &copy, &buf);
    }
    napi_set_element(env, frames, (uint32_t)k, buf);
    napi_set_element(env, pts, (uint32_t)k, dbl(env, j->pts[k]));
  }
  set(env, res, "frames", frames);
  set(env, res, "pts", pts);
  if (j->keys) {
    napi_value keys;
    napi_create_array_with_length(env, (size_t)j->ntargets, &keys);
    for (int k = 0; k < j->ntargets; k++) {
      napi_value b;
      napi_get_boolean(env, j->keys[k] != 0, &b);
      napi_set_element(env, keys, (uint32_t)k, b);
    }
    set(env, res, "keys", keys);
  }
  return res;
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *j = data;
  napi_value cb, undef, argv[2];
  napi_get_undefined(env, &undef);
  napi_get_reference_value(env, j->callback, &cb);
  if (status != napi_ok && !j->code[0]) fail(j, "FM_ERR_CANCELLED", "cancelled");
  if (j->code[0]) {
    napi_value msg;
    char full[LOG_KEEP + 600];
    snprintf(full, sizeof full, "%s", j->message);
    napi_create_string_utf8(env, full, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &argv[0]);
    set(env, argv[0], "code", str(env, j->code));
    set(env, argv[0], "detail", str(env, j->log));
    argv[1] = undef;
  } else {
    napi_get_null(env, &argv[0]);
    argv[1] = make_result(env, j);
  }
  napi_call_function(env, undef, cb, 2, argv, NULL);
  free_job(env, j);
}

/* Reads a named number property; `def` when absent. */
static double get_num(napi_env env, napi_value obj, const char *key, double def) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != napi_number) return def;
  double x;
  napi_get_value_double(env, v, &x);
  return isfinite(x) ? x : def;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "FM_ERR_ARGS_INVALID", msg);
  return NULL;
}

/*
 * decode(opts, callback): opts = { path, times?: number[] (seconds, file timeline), mode: "exact" |
 * "tolerant", width, height, rotation, mergeGap, frameDuration, threads, timeoutMs, cancel?:
 * Int32Array }. Without `times` it only opens the file and reports `info`.
 * callback(err, { info, frames: Buffer[], pts: number[] }) in request order.
 */
static napi_value js_decode(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL);
  napi_valuetype t0, t1;
  if (argc < 2 || napi_typeof(env, argv[0], &t0) != napi_ok || t0 != napi_object || napi_typeof(env, argv[1], &t1) != napi_ok || t1 != napi_function)
    return throw_type(env, "decode(opts, callback)");
  napi_value o = argv[0], v;
  Job *j = calloc(1, sizeof(Job));
  if (!j) return throw_type(env, "out of memory");
  size_t len = 0;
  if (napi_get_named_property(env, o, "path", &v) != napi_ok || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len == 0) {
    free_job(env, j);
    return throw_type(env, "path must be a non-empty string");
  }
  j->path = malloc(len + 1);
  napi_get_value_string_utf8(env, v, j->path, len + 1, &len);
  bool is_array = false;
  if (napi_get_named_property(env, o, "times", &v) == napi_ok && napi_is_array(env, v, &is_array) == napi_ok && is_array) {
    uint32_t n = 0;
    napi_get_array_length(env, v, &n);
    if (n == 0 || n > 100000) {
      free_job(env, j);
      return throw_type(env, "times must hold 1 to 100000 numbers");
    }
    j->want_frames = 1;
    j->ntargets = (int)n;
    j->targets = calloc(n, sizeof(Target));
    j->pts = calloc(n, sizeof(double));
    j->frames = calloc(n, sizeof(uint8_t *));
    for (uint32_t k = 0; k < n; k++) {
      napi_value e;
      double x = NAN;
      napi_get_element(env, v, k, &e);
      napi_get_value_double(env, e, &x);
      if (!isfinite(x)) {
        free_job(env, j);
        return throw_type(env, "times must be finite numbers");
      }
      j->targets[k].t = x;
      j->targets[k].index = (int)k;
    }
  }
  char mode[16] = "exact";
  if (napi_get_named_property(env, o, "mode", &v) == napi_ok) napi_get_value_string_utf8(env, v, mode, sizeof mode, &len);
  j->mode = strcmp(mode, "tolerant") == 0 ? MODE_TOLERANT : strcmp(mode, "all") == 0 ? MODE_ALL : MODE_EXACT;
  if (j->mode == MODE_ALL) {
    if (j->ntargets) {
      free_job(env, j);
      return throw_type(env, "mode \"all\" takes no times");
    }
    j->want_frames = 1;
    j->max_frames = (int)get_num(env, o, "maxFrames", 100000);
  }
  j->width = (int)get_num(env, o, "width", 0);
  j->height = (int)get_num(env, o, "height", 0);
  j->rotation = (int)get_num(env, o, "rotation", 0);
  j->merge_gap = get_num(env, o, "mergeGap", 1);
  j->frame_dur = get_num(env, o, "frameDuration", 1.0 / 25);
  j->threads = (int)get_num(env, o, "threads", 1);
  double timeout = get_num(env, o, "timeoutMs", 0);
  if (j->want_frames && (j->width < 1 || j->height < 1 || j->width > MAX_SIDE || j->height > MAX_SIDE)) {
    free_job(env, j);
    return throw_type(env, "width and height must be 1..16384");
  }
  if (j->rotation != 0 && j->rotation != 90 && j->rotation != 180 && j->rotation != 270) {
    free_job(env, j);
    return throw_type(env, "rotation must be 0, 90, 180 or 270");
  }
  if (j->threads < 0 || j->threads > 64) j->threads = 1;
  if (timeout > 0) j->deadline_ns = now_ns() + (int64_t)(timeout * 1e6);
  bool is_ta = false;
  if (napi_get_named_property(env, o, "cancel", &v) == napi_ok && napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta) {
    napi_typedarray_type type;
    size_t n;
    void *data;
    if (napi_get_typedarray_info(env, v, &type, &n, &data, NULL, NULL) == napi_ok && type == napi_int32_array && n >= 1) {
      j->cancel = (volatile int32_t *)data;
      napi_create_reference(env, v, 1, &j->cancel_ref); /* keeps the flag's memory alive while the work runs */
    }
  }
  napi_create_reference(env, argv[1], 1, &j->callback);
  napi_value name = str(env, "framemind-libav.decode");
  if (napi_create_async_work(env, NULL, name, execute, complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    free_job(env, j);
    return throw_type(env, "cannot queue the decode");
  }
  return NULL;
}

static napi_value js_versions(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value o;
  napi_create_object(env, &o);
  char buf[32];
  unsigned v[3] = {avformat_version(), avcodec_version(), swscale_version()};
  const char *names[3] = {"libavformat", "libavcodec", "libswscale"};
  for (int k = 0; k < 3; k++) {
    snprintf(buf, sizeof buf, "%u.%u.%u", AV_VERSION_MAJOR(v[k]), AV_VERSION_MINOR(v[k]), AV_VERSION_MICRO(v[k]));
    set(env, o, names[k], str(env, buf));
  }
  set(env, o, "ffmpeg", str(env, av_version_info()));
  return o;
}

static napi_value init(napi_env env, napi_value exports) {
  av_log_set_callback(log_callback);
  napi_value f;
  napi_create_function(env, "decode", NAPI_AUTO_LENGTH, js_decode, NULL, &f);
  set(env, exports, "decode", f);
  napi_create_function(env, "versions", NAPI_AUTO_LENGTH, js_versions, NULL, &f);
  set(env, exports, "versions", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
