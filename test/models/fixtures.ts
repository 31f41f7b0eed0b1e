/**
 * Tiny hand-made PixelBytes rows for the model tests: four 6×5 "sprites" drawn with a few
 * palette colours and short captions, through the data tools' sequence constructor.
 */
import { rowFrom, type Row } from '../../models/common/windows.js';

const W = 59, K = 58, R = 85, G = 97, B = 65, Y = 92; // white, black, red, green, blue, yellow ids

export const SPRITES: { image: number[][]; caption: string }[] = [
  { image: [[W, K, K, K, W], [K, R, R, R, K], [K, R, Y, R, K], [K, R, R, R, K], [W, K, K, K, W], [W, W, K, W, W]], caption: 'a red ball with a yellow eye' },
  { image: [[W, W, G, W, W], [W, G, G, G, W], [G, G, G, G, G], [W, W, K, W, W], [W, W, K, W, W], [W, K, K, K, W]], caption: 'a green tree on a root' },
  { image: [[B, W, W, W, B], [B, B, W, B, B], [W, B, B, B, W], [W, B, Y, B, W], [W, B, B, B, W], [B, W, W, W, B]], caption: 'a blue bug with wings' },
  { image: [[W, Y, Y, Y, W], [Y, K, Y, K, Y], [Y, Y, Y, Y, Y], [Y, K, K, K, Y], [W, Y, Y, Y, W], [W, W, W, W, W]], caption: 'a yellow smiling face' },
];

export function fixtureRows(): Row[] {
  return SPRITES.map((s, k) => rowFrom(s.image, s.caption, `fx${k}`));
}
