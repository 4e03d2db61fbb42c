/** Small parsers for executor configs, matching the Go functions Dkron uses. */

/** Go's strconv.ParseBool; anything else is undefined (Dkron then treats it as false). */
export function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/**
 * Splits a command line the way a POSIX shell splits words, without expansion: whitespace
 * separates, single quotes are literal, double quotes allow \" \\ \$ \` escapes, a backslash
 * outside quotes escapes the next character. Throws on an unterminated quote or trailing \.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error("unterminated single quote");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= line.length) throw new Error("unterminated double quote");
        const d = line[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\" && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1] as string)) {
          word += line[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
    } else if (c === "\\") {
      if (i + 1 >= line.length) throw new Error("trailing backslash");
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const memUnits: Record<string, number> = {
  B: 1,
  BYTES: 1,
  K: 1024,
  KB: 1024,
  M: 1024 ** 2,
  MB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1024 ** 4,
};

/**
 * Dkron's mem_limit: "" is no limit (undefined); a plain positive integer is bytes; otherwise a
 * number and a unit among B, BYTES, K, KB, M, MB, G, GB, T, TB (any case, powers of 1024).
 * Throws naming the value when it is not one of those, or not positive.
 */
export function parseMemoryLimit(s: string): number | undefined {
  if (s === "") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*$/.exec(s);
  if (!m) throw new Error(`mem_limit "${s}" is not a size like 512MB`);
  const unit = (m[2] as string).toUpperCase();
  const factor = unit === "" ? 1 : memUnits[unit];
  if (factor === undefined) {
    throw new Error(`mem_limit "${s}" has unknown unit "${m[2]}" (use B, KB, MB, GB or TB)`);
  }
  if (unit === "" && !/^\d+$/.test((m[1] as string).trim())) {
    throw new Error(`mem_limit "${s}" without a unit must be a whole number of bytes`);
  }
  const bytes = Math.floor(Number(m[1]) * factor);
  if (!(bytes > 0)) throw new Error(`mem_limit "${s}" must be positive`);
  return bytes;
}
