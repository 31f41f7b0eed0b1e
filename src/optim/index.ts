/** Optimizers and gradient utilities (exported as `optim` from the package). */
export { Optimizer, stateDictToTensors, stateDictFromTensors, type OptimizerStateDict, type ParamState, type ParamGroup, type ParamGroupSpec, type ParamsArg } from './optimizer.js';
export { AdamW, ADAMW_DEFAULTS, type AdamWOptions } from './adamw.js';
export { SGD, type SGDOptions } from './sgd.js';
export { clipGradNorm } from './clip.js';
