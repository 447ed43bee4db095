// Fetches a page from the hosts the profile grants and returns its status, type and start.
export const description = "Fetch a web page (example.com only) and return its status and the start of its body";
export const input = {
  type: "object",
  properties: { url: { type: "string", pattern: "^https?://" } },
  required: ["url"],
  additionalProperties: false,
};

export default async function (input, host) {
  const r = await host.fetch(input.url, { method: "GET", headers: { accept: "text/html,text/plain" } });
  return {
    status: r.status,
    url: r.url,
    content_type: r.headers["content-type"] ?? null,
    body: r.body.slice(0, 2000),
  };
}
