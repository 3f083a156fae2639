/** The video layer's public surface: everything else imports from here. */
export * from "./binaries.js";
export { processStats, setProcessConcurrency } from "./process.js";
export * from "./probe.js";
export * from "./frames.js";
export * from "./resize.js";
export * from "./paths.js";
export * from "./images.js";
export * from "./encode.js";
export * from "./reference.js";
export * from "./decode-image.js";
export { decoderStatus, nativeStats, nativeStreamInfo, setDecoder, type DecoderChoice, type DecoderStatus, type NativeStreamInfo } from "./native.js";
export { enableFrameStore, frameStoreStats, type FrameStoreOptions } from "./store.js";
