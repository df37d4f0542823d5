import { useMemo, useRef, useState } from "react";
import { send, type Schemas } from "../api/client";
import { ApiError, humanise, messageOf } from "../api/problem";
import { lineOf } from "./specLines";

type Problem = { loc: (string | number)[]; msg: string; line: number };

/**
 * A YAML spec editor (pipelines, tasks): problems from `check` or from a refused save are marked
 * on the lines they concern.
 */
export function SpecEditor<T>({
  initial,
  save: saveText,
  onSaved,
  checkUrl,
  label = "Pipeline spec (YAML)",
  saveLabel = "Save as a new version",
}: {
  initial: string;
  save: (text: string) => Promise<T>;
  onSaved: (saved: T) => void;
  checkUrl?: string;
  label?: string;
  saveLabel?: string;
}) {
  const [text, setText] = useState(initial);
  const [problems, setProblems] = useState<Problem[] | null>(null);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lines = text.split("\n").length;
  const marked = useMemo(() => new Map((problems ?? []).map((p) => [p.line, p.msg])), [problems]);

  function located(errors: { loc: (string | number)[]; msg: string }[], prefix: number): Problem[] {
    return errors.map((e) => {
      const loc = e.loc.slice(prefix);
      return { loc, msg: humanise(e.msg), line: lineOf(text, loc) };
    });
  }

  async function check() {
    if (!checkUrl) return;
    setBusy(true);
    setError(undefined);
    try {
      const reply = await send<Schemas["CheckReply"]>("POST", checkUrl, text, "application/yaml");
      setProblems(located(reply.errors, 0));
    } catch (reason) {
      setError(messageOf(reason));
    } finally {
      setBusy(false);
    }
  }

  async function save() {
    setBusy(true);
    setError(undefined);
    try {
      const saved = await saveText(text);
      setProblems([]);
      onSaved(saved);
    } catch (reason) {
      if (reason instanceof ApiError && reason.errors.length)
        setProblems(located(reason.errors, reason.errors[0].loc[0] === "body" ? 1 : 0));
      setError(messageOf(reason));
    } finally {
      setBusy(false);
    }
  }

  function goTo(line: number) {
    const element = area.current;
    if (!element) return;
    const offset =
      text
        .split("\n")
        .slice(0, line - 1)
        .join("\n").length + (line > 1 ? 1 : 0);
    element.focus();
    element.setSelectionRange(offset, offset);
    element.scrollTop = (line - 3) * 20;
  }

  return (
    <div className="spec-editor">
      <div className="editor">
        <div className="gutter" ref={gutter} aria-hidden>
          {Array.from({ length: lines }, (_, i) => (
            <div key={i} className={marked.has(i + 1) ? "bad" : ""} title={marked.get(i + 1)}>
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          ref={area}
          aria-label={label}
          spellCheck={false}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setProblems(null);
          }}
          onScroll={(e) => {
            if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
          }}
        />
      </div>
      {problems && problems.length === 0 && !error && <div className="notice-line">No problems found.</div>}
      {problems && problems.length > 0 && (
        <ul className="problems" aria-label="Problems">
          {problems.map((p, i) => (
            <li key={i}>
              <button type="button" className="link" onClick={() => goTo(p.line)}>
                line {p.line}
              </button>{" "}
              <code>{p.loc.join(".")}</code>: {p.msg}
            </li>
          ))}
        </ul>
      )}
      {error && (
        <div className="error-note" role="alert">
          {error}
        </div>
      )}
      <div className="actions">
        {checkUrl && (
          <button type="button" disabled={busy} onClick={() => void check()}>
            Check
          </button>
        )}
        <button type="button" className="primary" disabled={busy} onClick={() => void save()}>
          {saveLabel}
        </button>
      </div>
    </div>
  );
}
