import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { readMemoryLimit } from '../diagnostics/memory-limit.js';
import type { MemoryResponse } from '../protocol.js';
import { sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

/** How memory stands: process usage, V8's heap and its spaces, and the limit the process lives under. */
export const memory: Route = {
  name: 'memory',
  method: 'GET',
  path: '/memory',
  scope: 'read',
  handle(_req, res, ctx) {
    const heap = getHeapStatistics();
    const body: MemoryResponse = {
      process: process.memoryUsage(),
      heap: {
        totalHeapSize: heap.total_heap_size,
        usedHeapSize: heap.used_heap_size,
        heapSizeLimit: heap.heap_size_limit,
        mallocedMemory: heap.malloced_memory,
        externalMemory: heap.external_memory,
        numberOfNativeContexts: heap.number_of_native_contexts,
        numberOfDetachedContexts: heap.number_of_detached_contexts,
      },
      heapSpaces: getHeapSpaceStatistics().map((space) => ({
        name: space.space_name,
        sizeBytes: space.space_size,
        usedBytes: space.space_used_size,
        availableBytes: space.space_available_size,
      })),
      limit: readMemoryLimit(ctx.options.memoryLimitBytes),
    };
    sendJson(res, 200, body);
  },
};
