/** Errors from the API (problem+json) turned into words a person can act on. */

export interface FieldError {
  loc: (string | number)[];
  msg: string;
}

export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
}

/** What went wrong with one request: the server's own explanation when it gave one. */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[];

  constructor(status: number, body: ProblemBody | null) {
    super(describe(status, body));
    this.name = "ApiError";
    this.status = status;
    this.title = body?.title ?? statusTitle(status);
    this.errors = body?.errors ?? [];
  }

  /** The message for one field of a form, matched on the end of its location (`["body", "params", "value"]`). */
  fieldMessage(...path: (string | number)[]): string | undefined {
    const found = this.errors.find((e) => endsWith(e.loc, path));
    return found ? humanise(found.msg) : undefined;
  }
}

/** The network failed: the server is down or unreachable, not a refusal. */
export class OfflineError extends Error {
  constructor() {
    super("Cannot reach the Datamill server. Check your connection, or that the server is running, and try again.");
    this.name = "OfflineError";
  }
}

function endsWith(loc: (string | number)[], path: (string | number)[]): boolean {
  if (path.length > loc.length) return false;
  const tail = loc.slice(loc.length - path.length);
  return tail.every((part, i) => String(part) === String(path[i]));
}

function statusTitle(status: number): string {
  switch (status) {
    case 401:
      return "Please sign in";
    case 403:
      return "Not allowed";
    case 404:
      return "Not found";
    case 409:
      return "Conflict";
    case 413:
      return "Too large";
    case 422:
      return "Some fields need attention";
    case 429:
      return "Too many tries";
    default:
      return status >= 500 ? "Server error" : "Request refused";
  }
}

/** pydantic's messages start lower-case and technical; give them a capital and a full stop. */
export function humanise(message: string): string {
  const text = message.replace(/^Value error, /, "").trim();
  if (!text) return text;
  const capital = text[0].toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function describe(status: number, body: ProblemBody | null): string {
  if (body?.detail) return humanise(body.detail);
  if (status >= 500) return "Something went wrong on the server; the error has been logged. Try again in a moment.";
  return `${statusTitle(status)}.`;
}

/** The message to show for anything thrown while talking to the API. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
