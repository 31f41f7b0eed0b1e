/** Gradient recording on/off (torch.no_grad) and anomaly detection (torch.autograd.detect_anomaly). */
let gradEnabled = true;
let anomaly = false;

export function isGradEnabled(): boolean { return gradEnabled; }

/** Runs fn without recording a graph: evaluation, generation, optimizer updates. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try { return fn(); } finally { gradEnabled = prev; }
}

export function isAnomalyEnabled(): boolean { return anomaly; }
export function setAnomalyDetection(on: boolean): void { anomaly = on; }

/**
 * Runs fn with anomaly detection: every kernel's outputs are scanned, and the first NaN/Inf
 * throws an AnomalyError naming the op (forward) or the op whose backward produced it.
 * Slow (it reads every output back); for debugging only.
 */
export function detectAnomaly<T>(fn: () => T): T {
  const prev = anomaly;
  anomaly = true;
  try { return fn(); } finally { anomaly = prev; }
}

export class AnomalyError extends Error {
  constructor(message: string, readonly op: string, readonly phase: 'forward' | 'backward') {
    super(message);
    this.name = 'AnomalyError';
  }
}

/** The op currently running, for error messages ("in the backward of 'log'"). */
export const opContext: { op: string; phase: 'forward' | 'backward' }[] = [];
