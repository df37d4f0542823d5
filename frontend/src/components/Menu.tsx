import { useEffect, useRef, useState, type ReactNode } from "react";

/**
 * A button that opens a list of actions; a click outside or Escape closes it, and so does
 * choosing an item (each item gets `close`).
 */
export function Menu({
  label,
  buttonClass,
  align = "right",
  children,
}: {
  label: ReactNode;
  buttonClass?: string;
  align?: "left" | "right";
  children: (close: () => void) => ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const outside = (event: MouseEvent) => {
      if (!box.current?.contains(event.target as Node)) setOpen(false);
    };
    const escape = (event: KeyboardEvent) => {
      if (event.key === "Escape") setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    document.addEventListener("keydown", escape);
    return () => {
      document.removeEventListener("mousedown", outside);
      document.removeEventListener("keydown", escape);
    };
  }, [open]);
  return (
    <div className="menu" ref={box}>
      <button type="button" className={buttonClass} aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        {label}
      </button>
      {open && (
        <div className={align === "right" ? "menu-list right" : "menu-list"} role="menu">
          {children(() => setOpen(false))}
        </div>
      )}
    </div>
  );
}
