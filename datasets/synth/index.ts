/** The synthetic suite: families, scene rendering, the generator and legibility readers. */
export * from "./families.js";
export * from "./generate.js";
export { renderFrames, CUE_TINT, type Scene } from "./scene.js";
export * from "./legibility.js";
export { CODE_ALPHABET, DIGITS, glyph, textSize } from "./font.js";
