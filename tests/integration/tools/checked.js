// Its first statement has a visible side effect (a log line on paddock's stderr), so a test can
// tell whether the function ran at all: input that fails the schema must be refused before.
export const description = "Adds two small integers";
export const input = {
  type: "object",
  properties: {
    a: { type: "integer", minimum: 0, maximum: 100 },
    b: { type: "integer", minimum: 0, maximum: 100 },
  },
  required: ["a", "b"],
  additionalProperties: false,
};

export default async function (input, host) {
  host.log("checked-tool-ran");
  return { sum: input.a + input.b };
}
