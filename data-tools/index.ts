/**
 * PixelBytes data tools, the programmatic API for the model and trainer code:
 * vocabulary and palette (spec §1.3, §2.1), the sequence constructor and its inverse
 * (spec §2.2–2.3, §6), pixelation (spec §1.2) and the dataset loader.
 */
export { VOCAB_SIZE, PAD_ID, TAB_ID, LF_ID, SPACE_ID, FIRST_PIXEL_ID, LAST_PIXEL_ID, NUM_BYTE_TOKENS, BYTE_TOKENS, byteToId, idToByte, isByteId, isPixelId, textToIds, idsToText } from './vocab.js';
export { TOKENS, tokenRepr, type TokenInfo } from './tokens.js';
export { PALETTE, PALETTE_SIZE, PALETTE_LAB, BACKGROUND_PALETTE_INDEX, rgbToLab, labToRgb, nearestPaletteIndex, nearestColorId, paletteIndexToTokenId, tokenIdToRgb, type Rgb, type Lab } from './palette.js';
export { foldText, describeDrops, type DropCounts } from './text.js';
export { WINDOW_CELLS, buildSequence, nestedWindows, centresOf, sequenceToImageAndText, shapeText, type Sequence, type DecodedImage, type DecodedSequence } from './sequence.js';
export { pixelate, imageToIds, idsToRgba, type Pixelated, type PixelateOptions, PixelateError } from './pixelate.js';
export { decodePng, readPng, encodePng, PngError, type RgbaImage } from './png.js';
export { loadDataset, recordWindows, buildDataset, defaultOutDir, type LoadedDataset, type DatasetRecord, type Manifest, type BuildReport } from './dataset.js';
export { mulberry32, shuffled, type Rng } from './rng.js';
