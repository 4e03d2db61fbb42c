/**
 * The ACL token the UI sends (`Authorization: Bearer`), kept in localStorage so a reload stays
 * signed in. `needed` turns on when the server answers Unauthenticated; the header then asks.
 */
import { signal } from "@preact/signals";

const key = "tock.token";

function stored(): string {
  try {
    return localStorage.getItem(key) ?? "";
  } catch {
    return "";
  }
}

export const token = signal(stored());
export const needed = signal(false);

export function setToken(secret: string): void {
  token.value = secret.trim();
  needed.value = false;
  try {
    if (token.value === "") localStorage.removeItem(key);
    else localStorage.setItem(key, token.value);
  } catch {
    // storage refused (private mode): the token lasts for this page only
  }
}
