// Reads the world through the host functions its input names (a file, a URL, a database, a
// secret), and adds the clock and randomness, for the replay tests. The secret's value never
// leaves the tool: only its length, an FNV-1a digest and whether it is replay's placeholder.
//   {"file": P, "url": U, "sql": S, "secret": NAME}   (each optional)
export const description = "Reads a file, a URL, a database and a secret, with the clock and dice (replay)";
export const input = {
  type: "object",
  properties: {
    file: { type: "string" },
    url: { type: "string" },
    sql: { type: "string" },
    secret: { type: "string" },
    tag: { type: "string" },
  },
  additionalProperties: false,
};

function fnv(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

export default async function (input, host) {
  const out = { version: "v1", now: Date.now(), random: [Math.random(), Math.random(), Math.random()] };
  if (input.file !== undefined) out.file = await host.fs.read(input.file);
  if (input.url !== undefined) {
    const r = await host.fetch(input.url);
    out.fetched = { status: r.status, body: r.body };
  }
  if (input.sql !== undefined) out.rows = (await host.db.query(input.sql)).rows;
  if (input.secret !== undefined) {
    const v = host.secret(input.secret);
    out.secret = { length: v.length, fnv: fnv(v), placeholder: v === "<secret " + input.secret + ">" };
  }
  out.later = Math.random();
  return out;
}
