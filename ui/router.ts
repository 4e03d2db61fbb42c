/**
 * Hash routes (`#/jobs/name?…`), so every view has a deep link that the server's single page
 * answers, and Back / Forward walk the history. The route is a signal: views re-render when it
 * changes, whether by a link, navigate() or the browser's buttons.
 */
import { signal } from "@preact/signals";

export interface Route {
  /** Path segments, decoded: `#/jobs/a%2Fb/executions/1` → ["jobs", "a/b", "executions", "1"]. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const parts = path.split("/").filter((p) => p !== "").map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, query: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)) };
}

/** A hash link from segments and query values (empty values are left out). */
export function href(parts: string[], query: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== "") q.set(k, v);
  const qs = q.toString();
  return `#/${parts.map(encodeURIComponent).join("/")}${qs === "" ? "" : `?${qs}`}`;
}

export const route = signal<Route>(parseHash(location.hash));

addEventListener("hashchange", () => {
  route.value = parseHash(location.hash);
});

/** Goes to a hash link; `replace` keeps Back pointing past it (typing in a filter). */
export function navigate(to: string, replace = false): void {
  if (replace) {
    history.replaceState(history.state, "", to);
    route.value = parseHash(to);
  } else {
    location.hash = to;
  }
}
