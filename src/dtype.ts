/**
 * Element types. float32 is the working type on every device; float64 exists on the CPU so that
 * gradient checks can use central differences without drowning in rounding; int32 holds indices
 * (token ids, gather indices, targets).
 */
export type DType = 'float32' | 'float64' | 'int32';
export type TypedArray = Float32Array | Float64Array | Int32Array;
export type FloatArray = Float32Array | Float64Array;

export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}

export function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  return 'int32';
}

export function allocTyped(dtype: DType, length: number): TypedArray {
  // Plain ArrayBuffers: the CPU thread pool copies through its own shared scratch (backend/cpu/threads.ts).
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'int32': return new Int32Array(length);
  }
}
