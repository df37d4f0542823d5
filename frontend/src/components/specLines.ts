/**
 * Where a problem's path (`["steps", "dedupe", "with", "table"]`) sits in a YAML spec, so that the
 * editor can show it on its line. Best effort over the block style people write; a path it cannot
 * follow lands on the deepest key it found (line 1 at worst), never nowhere.
 */
export function lineOf(source: string, loc: (string | number)[]): number {
  const lines = source.split("\n");
  let from = 0;
  let indent = -1;
  let found = 0;
  for (const part of loc) {
    if (typeof part === "number" || /^\d+$/.test(String(part))) {
      // the n-th "- " item below the current key
      let seen = -1;
      for (let i = from; i < lines.length; i += 1) {
        const match = /^(\s*)- /.exec(lines[i]);
        const depth = lines[i].search(/\S/);
        if (depth >= 0 && depth <= indent && i > from) break;
        if (match && match[1].length > indent) {
          seen += 1;
          if (seen === Number(part)) {
            from = i;
            indent = match[1].length;
            found = i;
            break;
          }
        }
      }
      continue;
    }
    const key = new RegExp(`^(\\s*)(?:- )?["']?${part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']?\\s*:`);
    let hit = -1;
    for (let i = found === 0 && indent < 0 ? 0 : from; i < lines.length; i += 1) {
      const depth = lines[i].search(/\S/);
      if (i > from && depth >= 0 && depth <= indent) break;
      const match = key.exec(lines[i]);
      if (match && match[1].length > indent) {
        hit = i;
        indent = match[1].length;
        break;
      }
    }
    if (hit < 0) break;
    from = hit;
    found = hit;
  }
  return found + 1;
}
