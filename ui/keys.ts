/**
 * Keyboard: `/` focuses the page's search box, `j` / `k` move a cursor over the rows of the
 * current list, Enter opens the row under it, Esc leaves a field or drops the cursor.
 */
const rowsSelector = "main [data-nav]";

function rows(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>(rowsSelector)];
}

function move(by: number): void {
  const all = rows();
  if (all.length === 0) return;
  const at = all.findIndex((r) => r.classList.contains("cursor"));
  const next = Math.max(
    0,
    Math.min(all.length - 1, at < 0 ? (by > 0 ? 0 : all.length - 1) : at + by),
  );
  all[at]?.classList.remove("cursor");
  const row = all[next] as HTMLElement;
  row.classList.add("cursor");
  row.scrollIntoView({ block: "nearest" });
}

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

export function installKeys(): void {
  document.addEventListener("keydown", (ev: KeyboardEvent) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Escape") {
      if (typing(ev.target)) (ev.target as HTMLElement).blur();
      else for (const r of rows()) r.classList.remove("cursor");
      return;
    }
    if (typing(ev.target)) return;
    if (ev.key === "/") {
      const search = document.querySelector<HTMLInputElement>("main input[type=search]");
      if (search !== null) {
        ev.preventDefault();
        search.focus();
        search.select();
      }
    } else if (ev.key === "j") move(1);
    else if (ev.key === "k") move(-1);
    else if (ev.key === "Enter") {
      const row = document.querySelector<HTMLElement>(`${rowsSelector}.cursor`);
      const link = row?.querySelector<HTMLAnchorElement>("a[href]");
      if (link) {
        ev.preventDefault();
        link.click();
      }
    }
  });
}
