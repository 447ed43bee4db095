// Calls the host functions its input lists, one after another, and reports each outcome:
// {ok: true, value} or {ok: false, error}. The integration tests declare it with different
// grants and check which calls the runtime lets through.
//   {"fn": "fs.read", "path": P}          {"fn": "fs.write", "path": P, "data": D}
//   {"fn": "fs.list", "path": P}          {"fn": "fetch", "url": U, "options": {...}}
//   {"fn": "secret", "name": N, "expect": V}  (answers whether the value is V, never the value)
//   {"fn": "db.query", "sql": S, "params": [...]}
export const description = "Calls host functions as its input says and reports each outcome";
export const input = {
  type: "object",
  properties: { steps: { type: "array", items: { type: "object", required: ["fn"] } } },
  required: ["steps"],
};

async function one(s, host) {
  switch (s.fn) {
    case "fs.read":
      return await host.fs.read(s.path);
    case "fs.write":
      return await host.fs.write(s.path, s.data);
    case "fs.list":
      return await host.fs.list(s.path);
    case "fetch":
      return await host.fetch(s.url, s.options ?? {});
    case "secret": {
      const v = host.secret(s.name);
      return { matches: v === s.expect, length: v.length };
    }
    case "db.query":
      return await host.db.query(s.sql, s.params ?? []);
    default:
      throw new Error("unknown step " + s.fn);
  }
}

export default async function (input, host) {
  const results = [];
  for (const s of input.steps) {
    try {
      const value = await one(s, host);
      results.push({ ok: true, value: value === undefined ? null : value });
    } catch (e) {
      results.push({ ok: false, error: String(e && e.message ? e.message : e) });
    }
  }
  return { results };
}
