// Sends one message through the mail API, always into the same workspace: the script fixes the
// endpoint, the grant fixes the host, the profile fixes the rate.
const WORKSPACE = "ws-paddock-demo";

export const description = "Send an email message (to one recipient) from the team workspace";
export const input = {
  type: "object",
  properties: {
    to: { type: "string", pattern: "^[^@\\s]+@[^@\\s]+$", maxLength: 254 },
    subject: { type: "string", maxLength: 200 },
    body: { type: "string", maxLength: 20000 },
  },
  required: ["to", "subject", "body"],
  additionalProperties: false,
};

export default async function (input, host) {
  const r = await host.fetch(`https://api.mail.example/v1/workspaces/${WORKSPACE}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + host.secret("MAIL_TOKEN") },
    body: JSON.stringify({ to: input.to, subject: input.subject, text: input.body }),
  });
  if (r.status >= 300) throw new Error(`the mail API answered ${r.status}`);
  return { sent: true, status: r.status };
}
