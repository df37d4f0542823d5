/**
 * Where a problem's path (`["steps", "dedupe", "with", "table"]`) sits in a YAML spec, so that the
 * editor can show it on its line. Best effort over the block style people write: each key is
 * looked for at exactly the indentation of its parent's children, so a deeper key of the same
 * name elsewhere is not taken for it. A path it cannot follow lands on the deepest key it found
 * (line 1 at worst), never nowhere.
 */
export function lineOf(source: string, loc: (string | number)[]): number {
  const lines = source.split("\n");
  const depth = (line: string) => line.search(/\S/);
  const meaningful = (line: string) => line.trim() !== "" && !line.trim().startsWith("#");

  /** The indentation of the first line below `at` deeper than `parent`, if the block has one. */
  const childIndent = (at: number, parent: number): number | null => {
    for (let i = at + 1; i < lines.length; i += 1) {
      if (!meaningful(lines[i])) continue;
      return depth(lines[i]) > parent ? depth(lines[i]) : null;
    }
    return null;
  };

  let found = -1; // the line of the deepest part found, -1 before the first
  let indent = -1; // the indentation of that part's key (of its items, for a list item)
  let onItem = false; // the part found is a list item, whose first key sits on its own line
  for (const part of loc) {
    if (typeof part === "number" || /^\d+$/.test(String(part))) {
      let seen = -1;
      let hit = -1;
      let itemIndent = -1; // the list's own items, not those of a list nested in one
      for (let i = found + 1; i < lines.length; i += 1) {
        if (!meaningful(lines[i])) continue;
        if (depth(lines[i]) <= indent) break;
        const item = /^(\s*)- /.exec(lines[i]);
        if (item && itemIndent < 0) itemIndent = item[1].length;
        if (item && item[1].length === itemIndent) {
          seen += 1;
          if (seen === Number(part)) {
            hit = i;
            indent = item[1].length;
            break;
          }
        }
      }
      if (hit < 0) break;
      found = hit;
      onItem = true;
      continue;
    }
    const wanted = found < 0 ? 0 : onItem ? indent + 2 : childIndent(found, indent);
    if (wanted === null) break;
    const name = String(part).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const key = new RegExp(`^(\\s*)(- )?["']?${name}["']?\\s*:`);
    let hit = -1;
    for (let i = found < 0 ? 0 : onItem ? found : found + 1; i < lines.length; i += 1) {
      if (!meaningful(lines[i])) continue;
      if (i > found && found >= 0 && depth(lines[i]) <= indent) break;
      const match = key.exec(lines[i]);
      if (match && match[1].length + (match[2] ? 2 : 0) === wanted) {
        hit = i;
        break;
      }
    }
    if (hit < 0) break;
    found = hit;
    indent = wanted;
    onItem = false;
  }
  return Math.max(found, 0) + 1;
}
