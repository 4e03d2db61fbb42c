/** Dkron's `forward` key, shared by every processor: missing or not a bool means false. */
const truthy = ["1", "t", "T", "TRUE", "true", "True"];
const falsy = ["0", "f", "F", "FALSE", "false", "False"];

export function forwards(config: Record<string, string>): boolean {
  return truthy.includes(config.forward ?? "");
}

/** Refuses a forward that Go's ParseBool would not read (Dkron silently took it as false). */
export function checkForward(config: Record<string, string>, name: string): string | undefined {
  const f = config.forward;
  if (f === undefined || f === "" || truthy.includes(f) || falsy.includes(f)) return undefined;
  return `processor ${name}: forward "${f}" is not true or false`;
}

/** Refuses keys a processor does not know; reporting_node is Dkron's injected key. */
export function checkKeys(
  config: Record<string, string>,
  known: readonly string[],
  name: string,
): string | undefined {
  for (const k of Object.keys(config)) {
    if (k !== "reporting_node" && k !== "forward" && !known.includes(k)) {
      return `processor ${name}: unknown key "${k}" (known: ${["forward", ...known].join(", ")})`;
    }
  }
  return checkForward(config, name);
}
