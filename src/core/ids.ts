// Request ids in the original's shape: `rp-<epoch ms hex>-<seq hex>`, seq process-wide from 1.
let seq = 0;

export function nextRequestId(now = Date.now()): string {
  seq++;
  return `rp-${now.toString(16)}-${seq.toString(16)}`;
}
