/** The ACL and audit part of /openapi.json: security schemes and the /v1/acl, /v1/audit paths. */

const errorRef = { $ref: "#/components/schemas/Error" };
const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
const err = (description: string) => ({ description, ...json(errorRef) });
const denied = { "401": err("no valid token"), "403": err("the token lacks the capability") };
const ok = (description: string) => ({ "200": { description }, ...denied });

const aclPaths = {
  "/v1/acl/bootstrap": {
    post: {
      summary: "Create the first management token (once per cluster; the secret is shown once)",
      security: [],
      responses: { "200": { description: "token with secret" }, "409": err("already done") },
    },
  },
  "/v1/acl/token/self": { get: { summary: "The calling token", responses: ok("token") } },
  "/v1/acl/tokens": {
    get: { summary: "List tokens (never secrets)", responses: ok("tokens") },
    post: { summary: "Create a token {name, type, policies}", responses: ok("token with secret") },
  },
  "/v1/acl/tokens/{accessor}": {
    delete: { summary: "Delete a token by accessor", responses: ok("deleted token") },
  },
  "/v1/acl/policies": {
    get: { summary: "List policies", responses: ok("policies") },
    post: {
      summary: 'Create or replace a policy {name, description, jobs: {"glob": [caps]}, operator}',
      responses: ok("policy"),
    },
  },
  "/v1/acl/policies/{name}": {
    get: { summary: "One policy", responses: ok("policy") },
    delete: { summary: "Delete a policy", responses: ok("deleted policy") },
  },
  "/v1/audit": {
    get: {
      summary:
        "Audit entries after ?after=SEQ (oldest first, ?limit=N); X-Next-After is the cursor",
      responses: ok("entries"),
    },
  },
};

/** The document with token auth declared and the ACL paths added. */
export function withAcl<T extends { paths: object; components: object }>(doc: T): T {
  return {
    ...doc,
    security: [{ bearer: [] }, { dkronToken: [] }],
    paths: { ...doc.paths, ...aclPaths },
    components: {
      ...doc.components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "Authorization: Bearer <secret>" },
        dkronToken: { type: "apiKey", in: "header", name: "X-Dkron-Token" },
      },
    },
  };
}
