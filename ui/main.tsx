/**
 * Tock's web UI: Preact components over signals, talking to the node through the generated
 * Connect-Web clients. One page; hash routes give every view a deep link.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { needed, setToken, token } from "./auth.ts";
import { cluster } from "./client.ts";
import logo from "./favicon.svg";
import { installKeys } from "./keys.ts";
import { watchChangesForever } from "./live.ts";
import { Dashboard } from "./pages/dashboard.tsx";
import { ExecutionPage } from "./pages/execution.tsx";
import { JobPage } from "./pages/job.tsx";
import { JobForm } from "./pages/job_form.tsx";
import { JobsPage } from "./pages/jobs.tsx";
import { RunningPage } from "./pages/running.tsx";
import { UpcomingPage } from "./pages/upcoming.tsx";
import { href, route } from "./router.ts";
import { cycleTheme, theme } from "./theme.ts";

function View() {
  const { parts, query } = route.value;
  const [top, name, sub, id] = parts;
  if (top === undefined || top === "dashboard") return <Dashboard />;
  if (top === "running") return <RunningPage />;
  if (top === "upcoming") return <UpcomingPage />;
  if (top === "new") return <JobForm key="new" />;
  if (top === "jobs") {
    if (name === undefined) return <JobsPage query={query} />;
    if (sub === "edit") return <JobForm key={`edit:${name}`} name={name} />;
    if (sub === "executions" && id !== undefined) {
      return <ExecutionPage key={`${name}/${id}`} job={name} id={id} />;
    }
    return <JobPage key={name} name={name} />;
  }
  return (
    <section>
      <h2>Not found</h2>
      <p>
        No page at <code>{location.hash}</code>. <a href={href([])}>Go to the dashboard</a>.
      </p>
    </section>
  );
}

function Nav({ onToken }: { onToken: () => void }) {
  const top = route.value.parts[0] ?? "";
  const link = (to: string, label: string, match: string) => (
    <a href={to} class={top === match ? "active" : ""}>{label}</a>
  );
  const [node, setNode] = useState("");
  useEffect(() => {
    cluster.getCluster({}).then((c) => setNode(c.node), () => setNode("node unreachable"));
  }, []);
  const label = theme.value === "system" ? "◐ auto" : theme.value === "dark" ? "☾ dark" : "☀ light";
  return (
    <header>
      <a class="logo" href={href([])}>
        <img src={logo} alt="" />Tock
      </a>
      <nav>
        {link(href([]), "Dashboard", "")}
        {link(href(["jobs"]), "Jobs", "jobs")}
        {link(href(["running"]), "Running", "running")}
        {link(href(["upcoming"]), "Upcoming", "upcoming")}
        {link(href(["new"]), "+ New job", "new")}
      </nav>
      <span class="spacer" />
      <span class="node" id="node">{node}</span>
      <button type="button" id="token-button" class="ghost" title="ACL token" onClick={onToken}>
        {token.value === "" ? "token" : "token ✓"}
      </button>
      <button
        type="button"
        id="theme"
        class="ghost"
        title="Theme: system, light or dark"
        onClick={cycleTheme}
      >
        {label}
      </button>
    </header>
  );
}

/** The ACL token box: shown when the server asked for a token, or from the header's button. */
function TokenBox({ onClose }: { onClose: () => void }) {
  const [text, setText] = useState(token.value);
  return (
    <form
      id="token-form"
      class="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(text);
        onClose();
        location.reload(); // every view refetches with the new token
      }}
    >
      <label for="token">
        {needed.value ? "This node has ACLs on: paste your token's secret" : "ACL token"}
      </label>
      <input
        id="token"
        type="password"
        autocomplete="off"
        value={text}
        placeholder="tock_…"
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
      />
      <button type="submit" class="primary">Use token</button>
      {token.value !== "" && (
        <button
          type="button"
          onClick={() => {
            setToken("");
            location.reload();
          }}
        >
          Forget token
        </button>
      )}
      <button type="button" class="ghost" onClick={onClose}>Close</button>
    </form>
  );
}

function App() {
  const [tokenOpen, setTokenOpen] = useState(false);
  return (
    <>
      <Nav onToken={() => setTokenOpen(true)} />
      {(needed.value || tokenOpen) && (
        <TokenBox
          onClose={() => {
            setTokenOpen(false);
            needed.value = false;
          }}
        />
      )}
      <main>
        <View />
      </main>
    </>
  );
}

installKeys();
void watchChangesForever();
render(<App />, document.getElementById("app") as HTMLElement);
