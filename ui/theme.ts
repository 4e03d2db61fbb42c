/**
 * Dark / light: follows the system until the switch picks one; the choice is kept in
 * localStorage. The stylesheet reads `data-theme` on <html> (absent = follow the system).
 */
import { signal } from "@preact/signals";

export type ThemeChoice = "system" | "light" | "dark";
const key = "tock.theme";

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(key);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

export const theme = signal<ThemeChoice>(stored());

function apply(choice: ThemeChoice): void {
  if (choice === "system") delete document.documentElement.dataset["theme"];
  else document.documentElement.dataset["theme"] = choice;
}

apply(theme.value);

/** system → light → dark → system. */
export function cycleTheme(): void {
  const next: ThemeChoice = theme.value === "system"
    ? "light"
    : theme.value === "light"
    ? "dark"
    : "system";
  theme.value = next;
  apply(next);
  try {
    if (next === "system") localStorage.removeItem(key);
    else localStorage.setItem(key, next);
  } catch {
    // storage refused (private mode): the choice lasts for this page only
  }
}
