// One read-only query. The grant (read_only, tables users/orders/products, max_rows 1000) is
// enforced by SQLite's authorizer in paddock, whatever SQL arrives here.
export const description = "Run a read-only SQL query on the application database (users, orders, products)";
export const input = {
  type: "object",
  properties: {
    sql: { type: "string", maxLength: 4000 },
    params: { type: "array", items: { type: ["string", "number", "integer", "boolean", "null"] } },
  },
  required: ["sql"],
  additionalProperties: false,
};

export default async function (input, host) {
  return await host.db.query(input.sql, input.params ?? []);
}
