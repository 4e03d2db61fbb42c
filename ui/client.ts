/**
 * The UI's API clients: the generated Connect services over Connect-Web. Reads go as HTTP GET
 * (the methods are NO_SIDE_EFFECTS), so the browser's cache revalidates them with the server's
 * ETag and unchanged data comes back as an empty 304. Binary protobuf keeps answers small.
 */
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ClusterService } from "../src/gen/tock/v1/cluster_pb.ts";
import { JobService } from "../src/gen/tock/v1/job_pb.ts";
import { needed, token } from "./auth.ts";
import { apiPrefix } from "./format.ts";

/** Sends the ACL token when one is set; an Unauthenticated answer asks the user for one. */
const withToken: Interceptor = (next) => async (req) => {
  if (token.value !== "") req.header.set("authorization", `Bearer ${token.value}`);
  try {
    return await next(req);
  } catch (e) {
    if (e instanceof ConnectError && e.code === Code.Unauthenticated) needed.value = true;
    throw e;
  }
};

const transport = createConnectTransport({
  baseUrl: `${location.origin}${apiPrefix(location.pathname)}`,
  useHttpGet: true,
  useBinaryFormat: true,
  interceptors: [withToken],
});

export const jobs: Client<typeof JobService> = createClient(JobService, transport);
export const cluster: Client<typeof ClusterService> = createClient(ClusterService, transport);

/** The server's message of a failed call (Connect's rawMessage, without the code prefix). */
export function errorText(e: unknown): string {
  if (e instanceof ConnectError) return e.rawMessage;
  return e instanceof Error ? e.message : String(e);
}
