/** Registers the 'cpu' device and every CPU reference kernel (one import line per kernel file). */
import './device.js';
import './elementwise.js';
import './reduce.js';
import './matmul.js';
import './layout.js';
import './indexing.js';
import './softmax.js';
import './loss.js';
import './dropout.js';
import './conv.js';
import './embedding.js';
import './norm.js';
import './optim.js';
import './lstm.js';
import './attention.js';
import './selective_scan.js';
