// Answers its input back ({"echo": input}); {"fail": "reason"} makes it throw instead.
export const description = "Echo the input back";
export const input = {
  type: "object",
  properties: { text: { type: "string" }, fail: { type: "string" } },
  additionalProperties: false,
};

export default async function (input, host) {
  if (input.fail !== undefined) throw new Error(input.fail);
  return { echo: input };
}
