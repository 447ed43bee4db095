// Misbehaving scripts, chosen by input.what; "ok" is a well-behaved call. Each misbehaviour must
// end as a clean tool error within the tool's limits, and the next call must work.
export const description = "Misbehaves as asked";
export const input = {
  type: "object",
  properties: {
    what: {
      enum: ["ok", "loop", "promises", "heap", "array", "buffer", "recursion", "eval", "function", "wasm"],
    },
  },
  required: ["what"],
};

function recurse(n) {
  return recurse(n + 1) + 1;
}

export default async function (input, host) {
  switch (input.what) {
    case "ok":
      return { fine: true };
    case "loop":
      for (;;) {}
    case "promises": {
      // Each step queues the next: the microtask queue never drains.
      const step = () => Promise.resolve().then(step);
      await step();
      return { unreachable: true };
    }
    case "heap": {
      const keep = [];
      for (;;) keep.push({ a: Math.random(), b: "x".repeat(64) + keep.length, c: [1, 2, 3] });
    }
    case "array":
      return { length: new Array(2e8).fill(0).length };
    case "buffer":
      return { bytes: new ArrayBuffer(2 ** 32).byteLength };
    case "recursion":
      return { depth: recurse(0) };
    case "eval":
      return { value: eval("1 + 1") };
    case "function":
      return { value: new Function("return 1 + 1")() };
    case "wasm": {
      // The smallest valid module: "\0asm", version 1.
      const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
      return { module: String(new WebAssembly.Module(bytes)) };
    }
  }
  throw new Error("unreachable");
}
