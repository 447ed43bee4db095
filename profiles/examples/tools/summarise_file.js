// Counts lines and words of a text file and returns its first lines.
export const description = "Summarise a text file: size, lines, words and its first lines";
export const input = {
  type: "object",
  properties: {
    path: { type: "string", description: "absolute path of the file" },
    head: { type: "integer", minimum: 0, maximum: 50 },
  },
  required: ["path"],
  additionalProperties: false,
};

export default async function (input, host) {
  const text = await host.fs.read(input.path);
  const lines = text.split("\n");
  const words = text.split(/\s+/).filter((w) => w.length > 0).length;
  return {
    path: input.path,
    bytes: text.length,
    lines: lines.length,
    words,
    head: lines.slice(0, input.head ?? 5),
  };
}
