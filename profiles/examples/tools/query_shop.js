// Runs one read-only query on the shop database. Which tables it may read, and how many rows it
// may return, is decided by the grant (SQLite's authorizer), not by this script.
export const description = "Run a read-only SQL query on the shop database (tables products and orders)";
export const input = {
  type: "object",
  properties: {
    sql: { type: "string", maxLength: 2000 },
    params: { type: "array", items: { type: ["string", "number", "integer", "boolean", "null"] } },
  },
  required: ["sql"],
  additionalProperties: false,
};

export default async function (input, host) {
  return await host.db.query(input.sql, input.params ?? []);
}
