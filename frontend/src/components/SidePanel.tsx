import type { ReactNode } from "react";

/** A panel beside the grid: a title, a close button, and what it holds. */
export function SidePanel({
  label,
  title,
  onClose,
  className,
  closeLabel = `Close ${label.toLowerCase()}`,
  children,
}: {
  label: string;
  title: string;
  onClose: () => void;
  className?: string;
  closeLabel?: string;
  children: ReactNode;
}) {
  return (
    <aside className={className ? `side-panel ${className}` : "side-panel"} aria-label={label}>
      <header>
        <h2>{title}</h2>
        <button type="button" className="icon" aria-label={closeLabel} onClick={onClose}>
          ×
        </button>
      </header>
      {children}
    </aside>
  );
}
