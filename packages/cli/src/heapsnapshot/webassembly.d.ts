// The part of the WebAssembly JavaScript API that scan-simd.ts uses (scan-simd.wat):
// TypeScript declares it only in its DOM library, which this Node program does not load.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Global {
    value: number;
  }
}
